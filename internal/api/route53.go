package api

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/failoverdns/failoverdns/internal/answer"
	"github.com/failoverdns/failoverdns/internal/service"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// Route53Prefix is the path prefix of the Route 53 REST-XML API, version 2013-04-01.
const Route53Prefix = "/2013-04-01/"

// maxXMLBody caps a Route 53 request body. A change batch at Route 53's limits (1000 records,
// 32000 characters of values) is far smaller.
const maxXMLBody = 4 << 20

// Page sizes, Route 53's.
const (
	maxZonesPage   = 100
	maxRecordsPage = 300
	maxChecksPage  = 1000
)

// Route53Options configures the Route 53 facade.
type Route53Options struct {
	// AccessKeys maps access key ids to their secret keys. Requests must then be signed (SigV4)
	// with one of them; with none, any credentials (or none) are accepted.
	AccessKeys map[string]string
	// ClockSkew is how far a request's X-Amz-Date may be from the server's clock; zero means 15 min.
	ClockSkew time.Duration
	// Snapshot returns the answers DNS serves now, for TestDNSAnswer; nil makes it fail.
	Snapshot func() *answer.Snapshot
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Route53 is the HTTP handler of the Route 53 REST-XML API over the service layer, so that the
// aws CLI, boto3 and aws-sdk-go-v2 work against failoverdns with only an endpoint URL.
type Route53 struct {
	svc  *service.Service
	log  *slog.Logger
	mux  *http.ServeMux
	opts Route53Options
}

// NewRoute53 returns the Route 53 API handler over svc; log receives the causes of internal errors.
func NewRoute53(svc *service.Service, log *slog.Logger, opts Route53Options) *Route53 {
	if opts.ClockSkew == 0 {
		opts.ClockSkew = 15 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Route53{svc: svc, log: log, mux: http.NewServeMux(), opts: opts}
	h.routes()
	return h
}

func (h *Route53) routes() {
	m := h.mux
	const p = "/2013-04-01"
	m.HandleFunc("POST "+p+"/hostedzone", h.createZone)
	m.HandleFunc("GET "+p+"/hostedzone", h.listZones)
	m.HandleFunc("GET "+p+"/hostedzonesbyname", h.listZonesByName)
	m.HandleFunc("GET "+p+"/hostedzonecount", h.zoneCount)
	m.HandleFunc("GET "+p+"/hostedzone/{id}", h.getZone)
	m.HandleFunc("POST "+p+"/hostedzone/{id}", h.updateZoneComment)
	m.HandleFunc("DELETE "+p+"/hostedzone/{id}", h.deleteZone)
	// Both spellings, never a redirect: the model has the slash, clients disagree.
	m.HandleFunc("POST "+p+"/hostedzone/{id}/rrset", h.changeRecordSets)
	m.HandleFunc("POST "+p+"/hostedzone/{id}/rrset/{$}", h.changeRecordSets)
	m.HandleFunc("GET "+p+"/hostedzone/{id}/rrset", h.listRecordSets)
	m.HandleFunc("GET "+p+"/hostedzone/{id}/rrset/{$}", h.listRecordSets)
	m.HandleFunc("GET "+p+"/change/{id}", h.getChange)
	m.HandleFunc("POST "+p+"/healthcheck", h.createCheck)
	m.HandleFunc("GET "+p+"/healthcheck", h.listChecks)
	m.HandleFunc("GET "+p+"/healthcheckcount", h.checkCount)
	m.HandleFunc("GET "+p+"/healthcheck/{id}", h.getCheck)
	m.HandleFunc("POST "+p+"/healthcheck/{id}", h.updateCheck)
	m.HandleFunc("DELETE "+p+"/healthcheck/{id}", h.deleteCheck)
	m.HandleFunc("GET "+p+"/healthcheck/{id}/status", h.checkStatus)
	m.HandleFunc("GET "+p+"/healthcheck/{id}/lastfailurereason", h.lastFailure)
	m.HandleFunc("POST "+p+"/tags/{type}/{id}", h.changeTags)
	m.HandleFunc("GET "+p+"/tags/{type}/{id}", h.listTags)
	m.HandleFunc("POST "+p+"/tags/{type}", h.listTagsMany)
	m.HandleFunc("GET "+p+"/testdnsanswer", h.testDNSAnswer)
	m.HandleFunc(p+"/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, &service.Error{Code: "InvalidAction", Message: fmt.Sprintf("failoverdns implements no Route 53 operation %s %s; docs/api.md lists those it does", r.Method, r.URL.Path)})
	})
}

// ServeHTTP authenticates the request, reads its body (capped) and runs the operation.
func (h *Route53) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := newRequestID()
	w.Header().Set("x-amzn-RequestId", id)
	if r.ContentLength > maxXMLBody {
		h.fail(w, r, invalidInput(fmt.Sprintf("the request body is %d bytes long; at most %d are accepted", r.ContentLength, maxXMLBody)))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxXMLBody+1))
	if err != nil {
		h.fail(w, r, invalidInput("reading the request body failed: "+err.Error()))
		return
	}
	if len(body) > maxXMLBody {
		h.fail(w, r, invalidInput(fmt.Sprintf("the request body is longer than %d bytes", maxXMLBody)))
		return
	}
	if err := h.authenticate(r, body); err != nil {
		h.fail(w, r, err)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	h.mux.ServeHTTP(w, r)
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// xmlError is Route 53's error document.
type xmlError struct {
	XMLName xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ErrorResponse"`
	Error   struct {
		Type    string
		Code    string
		Message string
	}
	RequestId string
}

// route53Status is the HTTP status of an error code, as Route 53 and AWS's common errors use them.
func route53Status(code string) int {
	switch code {
	case codeMissingAuthenticationToken, codeInvalidClientTokenId, codeSignatureDoesNotMatch:
		return http.StatusForbidden
	case codeIncompleteSignature, "InvalidAction":
		return http.StatusBadRequest
	}
	return Status(code)
}

// fail answers with Route 53's ErrorResponse: a client's mistake with its code and message,
// anything else as an internal failure whose cause goes to the log only.
func (h *Route53) fail(w http.ResponseWriter, r *http.Request, err error) {
	var se *service.Error
	if !errors.As(err, &se) {
		h.log.Error("route53 api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		se = &service.Error{Code: service.CodeInternal, Message: "internal error; the server log has the cause"}
	}
	var body xmlError
	body.Error.Type = "Sender"
	if route53Status(se.Code) >= 500 {
		body.Error.Type = "Receiver"
	}
	body.Error.Code, body.Error.Message = se.Code, se.Message
	body.RequestId = w.Header().Get("x-amzn-RequestId")
	writeXML(w, route53Status(se.Code), body)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, "encoding the response failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	io.WriteString(w, xml.Header)
	w.Write(b)
}

// read decodes the request body strictly into v, whose root element is root; false means the
// error has been answered.
func (h *Route53) read(w http.ResponseWriter, r *http.Request, root string, v any) bool {
	body, _ := io.ReadAll(r.Body)
	if err := decodeXML(body, root, v); err != nil {
		h.fail(w, r, err)
		return false
	}
	return true
}

// maxItems parses the maxitems query parameter: def when absent, capped at limit.
func maxItems(r *http.Request, def, limit int) (int, error) {
	s := r.URL.Query().Get("maxitems")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, invalidInput(fmt.Sprintf("maxitems %q must be a whole number from 1 to %d", s, limit))
	}
	return min(n, limit), nil
}

func bareZoneID(id string) string {
	id = strings.TrimPrefix(id, service.ZonePrefix)
	return strings.TrimPrefix(id, "hostedzone/")
}

// --- hosted zones --------------------------------------------------------------------------

type createZoneRequest struct {
	XMLName          xml.Name `xml:"CreateHostedZoneRequest"`
	Name             string
	VPC              *struct{ VPCRegion, VPCId string }
	CallerReference  string
	HostedZoneConfig *struct {
		Comment     string
		PrivateZone bool
	}
	DelegationSetId string
}

type createZoneResponse struct {
	XMLName       xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ CreateHostedZoneResponse"`
	HostedZone    xmlHostedZone
	ChangeInfo    xmlChangeInfo
	DelegationSet xmlDelegationSet
}

func (h *Route53) createZone(w http.ResponseWriter, r *http.Request) {
	var req createZoneRequest
	if !h.read(w, r, "CreateHostedZoneRequest", &req) {
		return
	}
	switch {
	case req.Name == "":
		h.fail(w, r, invalidInput("Invalid XML ; cvc-complex-type.2.4.a: the element 'Name' is missing: give the zone's domain name"))
		return
	case req.CallerReference == "":
		h.fail(w, r, invalidInput("Invalid XML ; cvc-complex-type.2.4.b: the element 'CallerReference' is missing: give a unique string per zone (a retry with the same one is refused with HostedZoneAlreadyExists)"))
		return
	case req.VPC != nil || (req.HostedZoneConfig != nil && req.HostedZoneConfig.PrivateZone):
		h.fail(w, r, &service.Error{Code: "InvalidVPCId", Message: "failoverdns serves public zones only: remove VPC and PrivateZone"})
		return
	case req.DelegationSetId != "":
		h.fail(w, r, &service.Error{Code: "NoSuchDelegationSet", Message: "failoverdns has no reusable delegation sets: remove DelegationSetId (the NS records come from the nameservers setting)"})
		return
	}
	comment := ""
	if req.HostedZoneConfig != nil {
		comment = req.HostedZoneConfig.Comment
	}
	hz, ci, err := h.svc.CreateZone(r.Context(), req.Name, req.CallerReference, comment)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ds, err := h.delegation(r, hz.Id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", baseURL(r)+Route53Prefix+"hostedzone/"+bareZoneID(hz.Id))
	writeXML(w, http.StatusCreated, createZoneResponse{HostedZone: toXMLZone(hz), ChangeInfo: toXMLChange(ci), DelegationSet: ds})
}

func baseURL(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func (h *Route53) delegation(r *http.Request, id string) (xmlDelegationSet, error) {
	var ds xmlDelegationSet
	ns, err := h.svc.NameServers(r.Context(), id)
	if len(ns) > 0 {
		ds.NameServers.NameServer = ns
	}
	return ds, err
}

type getZoneResponse struct {
	XMLName       xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetHostedZoneResponse"`
	HostedZone    xmlHostedZone
	DelegationSet xmlDelegationSet
}

func (h *Route53) getZone(w http.ResponseWriter, r *http.Request) {
	hz, err := h.svc.GetZone(r.Context(), bareZoneID(r.PathValue("id")))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ds, err := h.delegation(r, hz.Id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeXML(w, http.StatusOK, getZoneResponse{HostedZone: toXMLZone(hz), DelegationSet: ds})
}

type listZonesResponse struct {
	XMLName     xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListHostedZonesResponse"`
	HostedZones struct {
		HostedZone []xmlHostedZone
	}
	Marker      string
	IsTruncated bool
	NextMarker  string `xml:",omitempty"`
	MaxItems    string
}

// listZones pages through the zones in name order; markers are zone ids.
func (h *Route53) listZones(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := maxItems(r, maxZonesPage, maxZonesPage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if q.Get("delegationsetid") != "" {
		h.fail(w, r, &service.Error{Code: "NoSuchDelegationSet", Message: "failoverdns has no reusable delegation sets"})
		return
	}
	if t := q.Get("hostedzonetype"); t != "" && t != "PrivateHostedZone" {
		h.fail(w, r, invalidInput(enumMessage(t, []string{"PrivateHostedZone"})))
		return
	}
	zones, err := h.svc.ListZones(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if q.Get("hostedzonetype") == "PrivateHostedZone" {
		zones = nil
	}
	start := 0
	marker := q.Get("marker")
	if marker != "" {
		start = -1
		for i, hz := range zones {
			if bareZoneID(hz.Id) == bareZoneID(marker) {
				start = i
				break
			}
		}
		if start < 0 {
			h.fail(w, r, invalidInput(fmt.Sprintf("the marker %q is not the id of a hosted zone (it may have been deleted since the previous page)", marker)))
			return
		}
	}
	resp := listZonesResponse{Marker: marker, MaxItems: strconv.Itoa(limit)}
	end := min(len(zones), start+limit)
	for _, hz := range zones[start:end] {
		resp.HostedZones.HostedZone = append(resp.HostedZones.HostedZone, toXMLZone(hz))
	}
	if end < len(zones) {
		resp.IsTruncated, resp.NextMarker = true, bareZoneID(zones[end].Id)
	}
	writeXML(w, http.StatusOK, resp)
}

type listZonesByNameResponse struct {
	XMLName     xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListHostedZonesByNameResponse"`
	HostedZones struct {
		HostedZone []xmlHostedZone
	}
	DNSName          string `xml:",omitempty"`
	HostedZoneId     string `xml:",omitempty"`
	IsTruncated      bool
	NextDNSName      string `xml:",omitempty"`
	NextHostedZoneId string `xml:",omitempty"`
	MaxItems         string
}

func (h *Route53) listZonesByName(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := maxItems(r, maxZonesPage, maxZonesPage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	dnsName, zoneID := q.Get("dnsname"), bareZoneID(q.Get("hostedzoneid"))
	if zoneID != "" && dnsName == "" {
		h.fail(w, r, invalidInput("hostedzoneid needs dnsname: give both, as NextDNSName and NextHostedZoneId return them"))
		return
	}
	zones, err := h.svc.ListZones(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	start := 0
	if dnsName != "" {
		canon, err := zone.CanonicalName(dnsName)
		if err != nil {
			h.fail(w, r, &service.Error{Code: service.CodeInvalidDomainName, Message: fmt.Sprintf("dnsname %q is not a valid domain name", dnsName)})
			return
		}
		start = len(zones)
		for i, hz := range zones {
			if !zone.Less(zone.RecordSet{Name: hz.Name}, zone.RecordSet{Name: canon}) &&
				(zoneID == "" || hz.Name != canon || bareZoneID(hz.Id) >= zoneID) {
				start = i
				break
			}
		}
	}
	resp := listZonesByNameResponse{DNSName: dnsName, HostedZoneId: q.Get("hostedzoneid"), MaxItems: strconv.Itoa(limit)}
	end := min(len(zones), start+limit)
	for _, hz := range zones[start:end] {
		resp.HostedZones.HostedZone = append(resp.HostedZones.HostedZone, toXMLZone(hz))
	}
	if end < len(zones) {
		resp.IsTruncated = true
		resp.NextDNSName, resp.NextHostedZoneId = zone.Route53Name(zones[end].Name), bareZoneID(zones[end].Id)
	}
	writeXML(w, http.StatusOK, resp)
}

type zoneCountResponse struct {
	XMLName         xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetHostedZoneCountResponse"`
	HostedZoneCount int
}

func (h *Route53) zoneCount(w http.ResponseWriter, r *http.Request) {
	zones, err := h.svc.ListZones(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeXML(w, http.StatusOK, zoneCountResponse{HostedZoneCount: len(zones)})
}

type updateCommentRequest struct {
	XMLName xml.Name `xml:"UpdateHostedZoneCommentRequest"`
	Comment string
}

type updateCommentResponse struct {
	XMLName    xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ UpdateHostedZoneCommentResponse"`
	HostedZone xmlHostedZone
}

func (h *Route53) updateZoneComment(w http.ResponseWriter, r *http.Request) {
	var req updateCommentRequest
	if !h.read(w, r, "UpdateHostedZoneCommentRequest", &req) {
		return
	}
	hz, err := h.svc.UpdateZoneComment(r.Context(), bareZoneID(r.PathValue("id")), req.Comment)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeXML(w, http.StatusOK, updateCommentResponse{HostedZone: toXMLZone(hz)})
}

type deleteZoneResponse struct {
	XMLName    xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ DeleteHostedZoneResponse"`
	ChangeInfo xmlChangeInfo
}

func (h *Route53) deleteZone(w http.ResponseWriter, r *http.Request) {
	id := bareZoneID(r.PathValue("id"))
	ci, err := h.svc.DeleteZone(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.svc.DeleteTags(r.Context(), service.TagResourceHostedZone, id); err != nil {
		h.log.Warn("route53 api: forgetting the tags of a deleted zone failed", "zone", id, "err", err)
	}
	writeXML(w, http.StatusOK, deleteZoneResponse{ChangeInfo: toXMLChange(ci)})
}

// --- record sets and changes -------------------------------------------------------------

type changeBatchRequest struct {
	XMLName     xml.Name `xml:"ChangeResourceRecordSetsRequest"`
	ChangeBatch *struct {
		Comment string
		Changes *struct {
			Change []struct {
				Action            string
				ResourceRecordSet *xmlRecordSet
			}
		}
	}
}

type changeResponse struct {
	XMLName    xml.Name
	ChangeInfo xmlChangeInfo
}

func (h *Route53) changeRecordSets(w http.ResponseWriter, r *http.Request) {
	var req changeBatchRequest
	if !h.read(w, r, "ChangeResourceRecordSetsRequest", &req) {
		return
	}
	if req.ChangeBatch == nil {
		h.fail(w, r, invalidInput("Invalid XML ; cvc-complex-type.2.4.b: The content of element 'ChangeResourceRecordSetsRequest' is not complete. One of '{\"https://route53.amazonaws.com/doc/2013-04-01/\":ChangeBatch}' is expected."))
		return
	}
	batch := zone.ChangeBatch{Comment: req.ChangeBatch.Comment}
	if req.ChangeBatch.Changes != nil {
		for i, c := range req.ChangeBatch.Changes.Change {
			if c.ResourceRecordSet == nil {
				h.fail(w, r, invalidInput(fmt.Sprintf("Invalid XML ; cvc-complex-type.2.4.b: The content of element 'Change' (number %d) is not complete. One of '{\"https://route53.amazonaws.com/doc/2013-04-01/\":ResourceRecordSet}' is expected.", i+1)))
				return
			}
			batch.Changes = append(batch.Changes, zone.Change{Action: c.Action, ResourceRecordSet: c.ResourceRecordSet.recordSet()})
		}
	}
	ci, err := h.svc.ChangeRecordSets(r.Context(), bareZoneID(r.PathValue("id")), batch)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeXML(w, http.StatusOK, changeResponse{XMLName: xml.Name{Space: Route53Namespace, Local: "ChangeResourceRecordSetsResponse"}, ChangeInfo: toXMLChange(ci)})
}

type listRecordSetsResponse struct {
	XMLName            xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListResourceRecordSetsResponse"`
	ResourceRecordSets struct {
		ResourceRecordSet []xmlRecordSet
	}
	IsTruncated          bool
	NextRecordName       string `xml:",omitempty"`
	NextRecordType       string `xml:",omitempty"`
	NextRecordIdentifier string `xml:",omitempty"`
	MaxItems             string
}

func (h *Route53) listRecordSets(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := maxItems(r, maxRecordsPage, maxRecordsPage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var start zone.Key
	name, typ, ident := q.Get("name"), q.Get("type"), q.Get("identifier")
	switch {
	case typ != "" && name == "":
		h.fail(w, r, invalidInput("The input is not valid: type (StartRecordType) needs name (StartRecordName)"))
		return
	case ident != "" && typ == "":
		h.fail(w, r, invalidInput("The input is not valid: identifier (StartRecordIdentifier) needs name and type"))
		return
	case typ != "" && !contains(zone.Types, typ):
		h.fail(w, r, invalidInput(enumMessage(typ, zone.Types)))
		return
	}
	if name != "" {
		canon, err := zone.CanonicalName(name)
		if err != nil {
			h.fail(w, r, invalidInput(fmt.Sprintf("name (StartRecordName) %q is not a valid domain name", name)))
			return
		}
		start = zone.Key{Name: canon, Type: typ, SetIdentifier: ident}
	}
	page, err := h.svc.ListRecordSets(r.Context(), bareZoneID(r.PathValue("id")), start, limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	resp := listRecordSetsResponse{MaxItems: strconv.Itoa(limit)}
	resp.ResourceRecordSets.ResourceRecordSet = make([]xmlRecordSet, 0, len(page.RecordSets))
	for _, rs := range page.RecordSets {
		resp.ResourceRecordSets.ResourceRecordSet = append(resp.ResourceRecordSets.ResourceRecordSet, toXMLRecordSet(rs))
	}
	if page.Next != nil {
		resp.IsTruncated = true
		resp.NextRecordName, resp.NextRecordType, resp.NextRecordIdentifier = zone.Route53Name(page.Next.Name), page.Next.Type, page.Next.SetIdentifier
	}
	writeXML(w, http.StatusOK, resp)
}

func (h *Route53) getChange(w http.ResponseWriter, r *http.Request) {
	ci, err := h.svc.GetChange(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeXML(w, http.StatusOK, changeResponse{XMLName: xml.Name{Space: Route53Namespace, Local: "GetChangeResponse"}, ChangeInfo: toXMLChange(ci)})
}
