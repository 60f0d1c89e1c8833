# vpnlab: two commands on a fresh machine (as root):
#   make demo   install what is missing, build, replay the seed tickets against the shipped labs
#   make test   install what is missing, build, run every test
# Both install missing Debian packages with apt-get (after apt-get update), never by hand.

CARGO ?= cargo
BIN := target/release/vpnlab
# The runtime needs these; tests also need util-linux's setpriv (to run as a non-root user).
# charon's plugins come from several packages: vici from strongswan-swanctl, openssl from
# libstrongswan-standard-plugins (only recommended), kernel-libipsec and error-notify from
# libcharon-extra-plugins; --no-install-recommends would miss them otherwise. frr gives the
# BGP speakers (zebra, bgpd).
DEBS := frr strongswan-charon strongswan-swanctl libstrongswan-standard-plugins libcharon-extra-plugins libstrongswan-extra-plugins nftables iproute2 iputils-ping util-linux

.PHONY: all deps build demo lint test bench fuzz clean

all: build

# Installs only what is missing, so a prepared machine does not touch the network.
deps:
	@missing=""; \
	for p in $(DEBS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else \
		echo "Debian packages present: $(DEBS)"; \
	fi

build:
	$(CARGO) build --release --locked

demo: deps build
	./$(BIN) run labs/azure-paloalto
	./$(BIN) test labs/

# rustfmt and clippy, warnings as errors; part of `make test`.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --locked -- -D warnings

# Lint, unit tests, then the integration tests (as root, in namespaces). Under CI=true a test
# that needs root and cannot have it fails instead of skipping.
test: deps lint
	@# --all-targets: unit and integration tests; the crate has no doctests, and a closing
	@# "0 passed" doctest line would read as a run with no test.
	$(CARGO) build --locked
	$(CARGO) test --locked --all-targets

bench: deps build
	./$(BIN) bench labs/azure-paloalto --runs 30 --matrix labs/
	./$(BIN) bench labs/azure-pfsense-home --scenario bgp --runs 20
	./$(BIN) bench --import labs/azure-paloalto/dut/running-config.set labs/azure-paloalto-xml/dut/running-config.xml tests/fixtures/panos/large.xml labs/azure-pfsense-home/dut/config.xml tests/fixtures/pfsense/twenty-tunnels.xml:17 --runs 200

# Fuzzes the lab-file/scenario parsers, the Azure importer and the PAN-OS (set, XML) and pfSense
# configuration readers for FUZZ_SECONDS each (cargo fuzz, nightly; installs cargo-fuzz when
# missing). Not part of `make test`. A finding stops the run;
# keep its input under fuzz/regressions/<target>/, which `cargo test` replays.
FUZZ_SECONDS ?= 60
fuzz:
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	@# The same dependency versions as the shipped build (serde-saphyr above all).
	@[ -f fuzz/Cargo.lock ] || cp Cargo.lock fuzz/Cargo.lock
	@for t in lab_file azure_import panos_set panos_xml pfsense_xml; do \
		mkdir -p fuzz/corpus/$$t; \
		echo "fuzzing $$t for $(FUZZ_SECONDS) s"; \
		$(CARGO) +nightly fuzz run $$t fuzz/corpus/$$t fuzz/seeds/$$t -- -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=65536 || exit 1; \
	done

clean:
	$(CARGO) clean
