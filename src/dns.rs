//! A minimal DNS (RFC 1035) for the lab: the wire format of A-record questions and answers,
//! a resolver query, and the answering side of the lab's own name server. Enough for a local
//! network gateway's `fqdn`, nothing more: one question, A records, UDP.

use std::net::Ipv4Addr;

const TYPE_A: u16 = 1;
const CLASS_IN: u16 = 1;
/// Seconds the lab's answers may be cached. Azure's own cache is its 5-minute refresh.
const TTL: u32 = 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: u16,
    pub name: String,
    pub qtype: u16,
    /// Everything from the start of the question section to its end, echoed in the answer.
    raw_question: Vec<u8>,
    recursion_desired: bool,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Reads a (non-compressed) name at `at`; returns it lowercase and the offset after it.
fn read_name(b: &[u8], mut at: usize) -> Option<(String, usize)> {
    let mut labels = Vec::new();
    loop {
        let len = *b.get(at)? as usize;
        at += 1;
        if len == 0 {
            break;
        }
        if len & 0xC0 != 0 {
            // A compression pointer: in a question it can only point backwards into the name
            // already read; questions from real resolvers never use one.
            return None;
        }
        labels.push(String::from_utf8_lossy(b.get(at..at + len)?).to_ascii_lowercase());
        at += len;
        if labels.len() > 127 {
            return None;
        }
    }
    Some((labels.join("."), at))
}

/// Parses a query with exactly one question.
pub fn parse_query(b: &[u8]) -> Option<Question> {
    let id = be16(b, 0)?;
    let flags = be16(b, 2)?;
    if flags & 0x8000 != 0 || be16(b, 4)? != 1 {
        return None;
    }
    let (name, end) = read_name(b, 12)?;
    let qtype = be16(b, end)?;
    let _class = be16(b, end + 2)?;
    Some(Question { id, name, qtype, raw_question: b[12..end + 4].to_vec(), recursion_desired: flags & 0x0100 != 0 })
}

/// The answer to `q`: the A records of its name, or NXDOMAIN when there are none (and no
/// answer, but no error, for other record types of a known name).
pub fn answer(q: &Question, addresses: Option<&[Ipv4Addr]>) -> Vec<u8> {
    let known = addresses.is_some();
    let records: &[Ipv4Addr] = if q.qtype == TYPE_A { addresses.unwrap_or(&[]) } else { &[] };
    let mut flags: u16 = 0x8000 | 0x0400; // response, authoritative
    if q.recursion_desired {
        flags |= 0x0100;
    }
    if !known {
        flags |= 3; // NXDOMAIN
    }
    let mut out = Vec::with_capacity(64);
    out.extend(q.id.to_be_bytes());
    out.extend(flags.to_be_bytes());
    out.extend(1u16.to_be_bytes());
    out.extend((records.len() as u16).to_be_bytes());
    out.extend([0, 0, 0, 0]);
    out.extend(&q.raw_question);
    for addr in records {
        out.extend([0xC0, 12]); // pointer to the question's name
        out.extend(TYPE_A.to_be_bytes());
        out.extend(CLASS_IN.to_be_bytes());
        out.extend(TTL.to_be_bytes());
        out.extend(4u16.to_be_bytes());
        out.extend(addr.octets());
    }
    out
}

/// An A query for `name` with `id`.
pub fn query(id: u16, name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    out.extend(id.to_be_bytes());
    out.extend(0x0100u16.to_be_bytes()); // recursion desired
    out.extend(1u16.to_be_bytes());
    out.extend([0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        out.push(label.len() as u8);
        out.extend(label.as_bytes());
    }
    out.push(0);
    out.extend(TYPE_A.to_be_bytes());
    out.extend(CLASS_IN.to_be_bytes());
    out
}

/// What a response says: the A records in order (empty for NXDOMAIN or no data).
pub fn parse_response(id: u16, b: &[u8]) -> Result<Vec<Ipv4Addr>, String> {
    if be16(b, 0) != Some(id) {
        return Err("a response to another query".into());
    }
    let flags = be16(b, 2).ok_or("a truncated response")?;
    match flags & 0x000F {
        0 => {}
        3 => return Ok(Vec::new()),
        rcode => return Err(format!("the server answered with error code {rcode}")),
    }
    let qd = be16(b, 4).ok_or("a truncated response")?;
    let an = be16(b, 6).ok_or("a truncated response")?;
    let mut at = 12;
    for _ in 0..qd {
        let (_, end) = read_name(b, at).ok_or("an unreadable question")?;
        at = end + 4;
    }
    let mut out = Vec::new();
    for _ in 0..an {
        // Names in answers are usually a pointer (2 bytes); skip labels otherwise.
        if b.get(at).is_some_and(|x| x & 0xC0 == 0xC0) {
            at += 2;
        } else {
            let (_, end) = read_name(b, at).ok_or("an unreadable answer")?;
            at = end;
        }
        let rtype = be16(b, at).ok_or("a truncated answer")?;
        let rdlen = be16(b, at + 8).ok_or("a truncated answer")? as usize;
        let data = b.get(at + 10..at + 10 + rdlen).ok_or("a truncated answer")?;
        if rtype == TYPE_A && rdlen == 4 {
            out.push(Ipv4Addr::new(data[0], data[1], data[2], data[3]));
        }
        at += 10 + rdlen;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_bytes() {
        let q = query(0x1234, "vpn.example.com");
        assert_eq!(
            q,
            [
                0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'v', b'p', b'n', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, 0, 1,
                0, 1
            ]
        );
    }

    #[test]
    fn question_and_answer_round_trip() {
        let q = parse_query(&query(7, "Branch.Example.com")).unwrap();
        assert_eq!(q.name, "branch.example.com");
        assert_eq!(q.qtype, TYPE_A);
        let addrs = ["203.0.113.10".parse().unwrap(), "203.0.113.11".parse().unwrap()];
        let resp = answer(&q, Some(&addrs));
        assert_eq!(parse_response(7, &resp).unwrap(), addrs);
        // NXDOMAIN is an empty answer, not an error.
        let resp = answer(&q, None);
        assert_eq!(resp[3] & 0x0F, 3);
        assert_eq!(parse_response(7, &resp).unwrap(), Vec::<Ipv4Addr>::new());
        assert!(parse_response(8, &resp).is_err());
    }

    #[test]
    fn rejects_what_is_not_a_query() {
        assert!(parse_query(&[0; 5]).is_none());
        let q = parse_query(&query(1, "a.b")).unwrap();
        let mut resp = answer(&q, Some(&["192.0.2.1".parse().unwrap()]));
        assert!(parse_query(&resp).is_none(), "a response is not a query");
        resp.truncate(resp.len() - 2);
        assert_eq!(parse_response(1, &resp), Err("a truncated answer".to_string()));
    }
}
