package answer

// Compatibility with NSD and Knot.
//
// Answers are meant to be those NSD 4.6 and Knot 3.2 give for the same zone files; e2e's
// differential test compares all three section by section and accepts, per section, either
// reference. Where the two differ, this package follows:
//
//   - Positive answers carry no NS records in the authority section and no addresses for them in
//     the additional section: Knot (and NSD with minimal-responses). NSD by default adds both.
//   - Additional section: A then AAAA of each MX, SRV, NS, SVCB and HTTPS target (not "."), in
//     record order, from the zone of the record; a target named twice is answered twice, data
//     below a delegation counts, a wildcard covers a missing target, a CNAME is not followed:
//     exactly Knot. NSD orders all A before all AAAA, names a target once and skips occluded data.
//   - CNAME chains: followed into every zone we host, as NSD does (Knot stays in the zone of the
//     query); when the chain ends in another zone, a positive answer carries that zone's NS
//     records and their in-zone addresses, as NSD's does. At most 5 CNAME records are followed,
//     Knot's limit (NSD has none); a loop stops at the first repeated name (both).
//   - ANY (RFC 8482): one RRset, the one of the lowest type: Knot. NSD answers the SOA at an apex
//     and otherwise also the lowest type.
//   - RRSIG, NSEC and NSEC3 at a CNAME are NODATA, without following the CNAME: Knot. NSD answers
//     the CNAME.
//   - DS at the apex of a zone whose parent we also host comes from the parent (both); when the
//     parent has no delegation there, that is NXDOMAIN (Knot; NSD says NODATA).
//   - NODATA and NXDOMAIN carry the SOA with TTL min(SOA TTL, MINIMUM) (both, RFC 2308).
//
// Choices of the DNS front end (qtype 0, classes, transfers, truncation, malformed messages) are
// described in package dnsserver.
