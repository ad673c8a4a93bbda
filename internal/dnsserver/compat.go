package dnsserver

// Compatibility with NSD and Knot.
//
// The front end answers unusual messages as NSD 4.6 and Knot 3.2 do; where they differ:
//
//   - A response (QR set) or a packet shorter than a header: no reply (both).
//   - An opcode other than QUERY: NOTIMP with the header alone (NSD; Knot echoes the question),
//     NOTIFY and UPDATE included until they are implemented (NSD says REFUSED, Knot NOTAUTH).
//   - No question, two questions, a name that does not parse or a compression pointer in the
//     question: FORMERR with the header alone (NSD; Knot drops some of them). More than one answer
//     or authority record, or more than two additional records: FORMERR too (miekg/dns's limits;
//     one answer record, as in a query NSD refuses, is answered normally, as Knot does).
//   - Two OPT records, an OPT record not owned by the root or with broken option framing, and
//     bytes after the last record: FORMERR with the question echoed and no OPT (Knot; NSD
//     ignores trailing bytes and drops the question). A request longer than 4096 bytes: FORMERR.
//   - EDNS version above 0: BADVERS with our OPT (both). The DO bit is echoed (both); no DNSSEC.
//   - Our EDNS buffer size is 1232 and a UDP reply never exceeds min(client size, 1232), or 512
//     without EDNS, sizes below 512 counting as 512 (both).
//   - An answer or authority section that does not fit: TC with the question alone (both).
//     Additional records that do not fit are left out one by one, a smaller one after them may
//     still fit (Knot); a left-out address of a name server below a referral's cut sets TC
//     (Knot, RFC 9471; NSD leaves it out silently).
//   - Class IN and ANY are answered (class ANY as IN, with AA as Knot sets it); every other
//     class is REFUSED, version.bind in CHAOS included (both answer that one; we tell no version).
//   - qtype 0: NOTIMP (Knot; NSD answers NODATA). Meta types such as OPT, TSIG and MAILA: NODATA
//     (both).
//   - AXFR over UDP: NOTIMP (both). AXFR over TCP and IXFR of a zone we serve: REFUSED (NSD;
//     Knot says NOTAUTH); of anything else NOTAUTH (both).
//   - A name in no zone we serve: REFUSED without AA (both).
//   - The question is echoed in the client's letter case, and names of the answer point into it,
//     so they take that case too (both).
//   - RD is copied; RA, AD and CD are never set (both).
//   - No snapshot yet (startup): SERVFAIL, so that resolvers try another server instead of
//     caching a negative answer.
