package api

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/health"
	"github.com/failoverdns/failoverdns/internal/service"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// CheckerRegion is the Region of the one checker failoverdns has (itself) in
// GetHealthCheckStatus observations.
const CheckerRegion = "local"

// --- health checks --------------------------------------------------------------------------

type createCheckRequest struct {
	XMLName           xml.Name `xml:"CreateHealthCheckRequest"`
	CallerReference   string
	HealthCheckConfig *xmlHealthCheckConfig
}

type checkResponse struct {
	XMLName     xml.Name
	HealthCheck xmlHealthCheck
}

func checkReply(op string, hc service.HealthCheck) checkResponse {
	return checkResponse{XMLName: xml.Name{Space: Route53Namespace, Local: op + "Response"}, HealthCheck: toXMLCheck(hc)}
}

func (h *Route53) createCheck(w http.ResponseWriter, r *http.Request) {
	var req createCheckRequest
	if !h.read(w, r, "CreateHealthCheckRequest", &req) {
		return
	}
	if req.HealthCheckConfig == nil {
		h.fail(w, r, invalidInput("Invalid XML ; cvc-complex-type.2.4.b: The content of element 'CreateHealthCheckRequest' is not complete: HealthCheckConfig is missing."))
		return
	}
	cfg, err := req.HealthCheckConfig.config()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hc, _, err := h.svc.CreateHealthCheck(r.Context(), req.CallerReference, cfg)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", baseURL(r)+Route53Prefix+"healthcheck/"+hc.Id)
	writeXML(w, http.StatusCreated, checkReply("CreateHealthCheck", hc))
}

func (h *Route53) getCheck(w http.ResponseWriter, r *http.Request) {
	hc, err := h.svc.GetHealthCheck(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeXML(w, http.StatusOK, checkReply("GetHealthCheck", hc))
}

type listChecksResponse struct {
	XMLName      xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListHealthChecksResponse"`
	HealthChecks struct {
		HealthCheck []xmlHealthCheck
	}
	Marker      string
	IsTruncated bool
	NextMarker  string `xml:",omitempty"`
	MaxItems    string
}

func (h *Route53) listChecks(w http.ResponseWriter, r *http.Request) {
	limit, err := maxItems(r, 100, maxChecksPage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	checks, err := h.svc.ListHealthChecks(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	marker := r.URL.Query().Get("marker")
	start := sort.Search(len(checks), func(i int) bool { return checks[i].Id >= marker })
	end := min(len(checks), start+limit)
	resp := listChecksResponse{Marker: marker, MaxItems: strconv.Itoa(limit)}
	for _, hc := range checks[start:end] {
		resp.HealthChecks.HealthCheck = append(resp.HealthChecks.HealthCheck, toXMLCheck(hc))
	}
	if end < len(checks) {
		resp.IsTruncated, resp.NextMarker = true, checks[end].Id
	}
	writeXML(w, http.StatusOK, resp)
}

type checkCountResponse struct {
	XMLName          xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetHealthCheckCountResponse"`
	HealthCheckCount int
}

func (h *Route53) checkCount(w http.ResponseWriter, r *http.Request) {
	checks, err := h.svc.ListHealthChecks(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeXML(w, http.StatusOK, checkCountResponse{HealthCheckCount: len(checks)})
}

type updateCheckRequest struct {
	XMLName                      xml.Name `xml:"UpdateHealthCheckRequest"`
	HealthCheckVersion           *int64
	IPAddress                    *string
	Port                         *int
	ResourcePath                 *string
	FullyQualifiedDomainName     *string
	SearchString                 *string
	FailureThreshold             *int
	Inverted                     *bool
	Disabled                     *bool
	HealthThreshold              *int
	ChildHealthChecks            *xmlChildHealthChecks
	EnableSNI                    *bool
	Regions                      *xmlRegions
	AlarmIdentifier              *xmlAlarmIdentifier
	InsufficientDataHealthStatus *string
	ResetElements                *struct {
		ResettableElementName []string
	}
}

var resettableNames = []string{"FullyQualifiedDomainName", "Regions", "ResourcePath", "ChildHealthChecks"}

func (h *Route53) updateCheck(w http.ResponseWriter, r *http.Request) {
	var req updateCheckRequest
	if !h.read(w, r, "UpdateHealthCheckRequest", &req) {
		return
	}
	if req.AlarmIdentifier != nil {
		h.fail(w, r, invalidInput("failoverdns does not run CLOUDWATCH_METRIC health checks: remove AlarmIdentifier"))
		return
	}
	var resets []string
	if req.ResetElements != nil {
		resets = req.ResetElements.ResettableElementName
		for _, name := range resets {
			if !contains(resettableNames, name) {
				h.fail(w, r, invalidInput(enumMessage(name, resettableNames)))
				return
			}
		}
	}
	hc, err := h.svc.UpdateHealthCheck(r.Context(), r.PathValue("id"), deref(req.HealthCheckVersion), func(c *health.Config) error {
		for _, name := range resets {
			resettable[name](c)
		}
		set(&c.IPAddress, req.IPAddress)
		set(&c.Port, req.Port)
		set(&c.ResourcePath, req.ResourcePath)
		set(&c.FullyQualifiedDomainName, req.FullyQualifiedDomainName)
		set(&c.SearchString, req.SearchString)
		set(&c.FailureThreshold, req.FailureThreshold)
		set(&c.Inverted, req.Inverted)
		set(&c.Disabled, req.Disabled)
		set(&c.HealthThreshold, req.HealthThreshold)
		set(&c.InsufficientDataHealthStatus, req.InsufficientDataHealthStatus)
		if req.EnableSNI != nil {
			c.EnableSNI = req.EnableSNI
		}
		if req.ChildHealthChecks != nil {
			c.ChildHealthChecks = req.ChildHealthChecks.ChildHealthCheck
		}
		if req.Regions != nil {
			c.Regions = req.Regions.Region
		}
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeXML(w, http.StatusOK, checkReply("UpdateHealthCheck", hc))
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

type emptyResponse struct {
	XMLName xml.Name
}

func (h *Route53) deleteCheck(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := h.svc.DeleteHealthCheck(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.svc.DeleteTags(r.Context(), service.TagResourceHealthCheck, id); err != nil {
		h.log.Warn("route53 api: forgetting the tags of a deleted health check failed", "id", id, "err", err)
	}
	writeXML(w, http.StatusOK, emptyResponse{XMLName: xml.Name{Space: Route53Namespace, Local: "DeleteHealthCheckResponse"}})
}

type xmlObservation struct {
	Region       string
	IPAddress    string `xml:",omitempty"`
	StatusReport struct {
		Status      string
		CheckedTime string
	}
}

type observationsResponse struct {
	XMLName                 xml.Name
	HealthCheckObservations struct {
		HealthCheckObservation []xmlObservation
	}
}

// observations answers GetHealthCheckStatus (the latest observation of the one checker) and
// GetHealthCheckLastFailureReason (its latest failure). A forced state is reported as the
// checker's status, since it is what routing uses.
func (h *Route53) observations(w http.ResponseWriter, r *http.Request, op string, failuresOnly bool) {
	st, err := h.svc.HealthCheckStatus(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	resp := observationsResponse{XMLName: xml.Name{Space: Route53Namespace, Local: op + "Response"}}
	var obs *health.Observation
	for i := len(st.Observations) - 1; i >= 0; i-- {
		if !failuresOnly || !st.Observations[i].Healthy {
			obs = &st.Observations[i]
			break
		}
	}
	var o xmlObservation
	o.Region = CheckerRegion
	switch {
	case st.Force != nil && (!failuresOnly || !st.Force.Healthy):
		o.StatusReport.Status = "Failure: forced unhealthy by the operator"
		if st.Force.Healthy {
			o.StatusReport.Status = "Success: forced healthy by the operator"
		}
		if st.Force.Reason != "" {
			o.StatusReport.Status += ": " + st.Force.Reason
		}
		o.StatusReport.CheckedTime = r53Time(st.Since)
		if obs != nil && obs.IP.IsValid() {
			o.IPAddress = obs.IP.String()
		}
	case obs != nil:
		o.StatusReport.Status, o.StatusReport.CheckedTime = obs.Status, r53Time(obs.Time)
		if obs.IP.IsValid() {
			o.IPAddress = obs.IP.String()
		}
	default:
		writeXML(w, http.StatusOK, resp)
		return
	}
	resp.HealthCheckObservations.HealthCheckObservation = []xmlObservation{o}
	writeXML(w, http.StatusOK, resp)
}

func (h *Route53) checkStatus(w http.ResponseWriter, r *http.Request) {
	h.observations(w, r, "GetHealthCheckStatus", false)
}

func (h *Route53) lastFailure(w http.ResponseWriter, r *http.Request) {
	h.observations(w, r, "GetHealthCheckLastFailureReason", true)
}

// --- tags ----------------------------------------------------------------------------------------

type changeTagsRequest struct {
	XMLName       xml.Name `xml:"ChangeTagsForResourceRequest"`
	AddTags       *xmlTags
	RemoveTagKeys *struct {
		Key []string
	}
}

func tagResourceID(kind, id string) string {
	if kind == service.TagResourceHostedZone {
		return bareZoneID(id)
	}
	return id
}

func (h *Route53) changeTags(w http.ResponseWriter, r *http.Request) {
	var req changeTagsRequest
	if !h.read(w, r, "ChangeTagsForResourceRequest", &req) {
		return
	}
	var add []service.Tag
	if req.AddTags != nil {
		for _, t := range req.AddTags.Tag {
			add = append(add, service.Tag{Key: t.Key, Value: t.Value})
		}
	}
	var remove []string
	if req.RemoveTagKeys != nil {
		remove = req.RemoveTagKeys.Key
	}
	kind := r.PathValue("type")
	if err := h.svc.ChangeTags(r.Context(), kind, tagResourceID(kind, r.PathValue("id")), add, remove); err != nil {
		h.fail(w, r, err)
		return
	}
	writeXML(w, http.StatusOK, emptyResponse{XMLName: xml.Name{Space: Route53Namespace, Local: "ChangeTagsForResourceResponse"}})
}

func (h *Route53) tagSet(r *http.Request, kind, id string) (xmlResourceTagSet, error) {
	id, tags, err := h.svc.ListTags(r.Context(), kind, tagResourceID(kind, id))
	if err != nil {
		return xmlResourceTagSet{}, err
	}
	set := xmlResourceTagSet{ResourceType: kind, ResourceId: id}
	for _, t := range tags {
		set.Tags.Tag = append(set.Tags.Tag, xmlTag(t))
	}
	return set, nil
}

type listTagsResponse struct {
	XMLName        xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListTagsForResourceResponse"`
	ResourceTagSet xmlResourceTagSet
}

func (h *Route53) listTags(w http.ResponseWriter, r *http.Request) {
	set, err := h.tagSet(r, r.PathValue("type"), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeXML(w, http.StatusOK, listTagsResponse{ResourceTagSet: set})
}

type listTagsManyRequest struct {
	XMLName     xml.Name `xml:"ListTagsForResourcesRequest"`
	ResourceIds struct {
		ResourceId []string
	}
}

type listTagsManyResponse struct {
	XMLName         xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListTagsForResourcesResponse"`
	ResourceTagSets struct {
		ResourceTagSet []xmlResourceTagSet
	}
}

func (h *Route53) listTagsMany(w http.ResponseWriter, r *http.Request) {
	var req listTagsManyRequest
	if !h.read(w, r, "ListTagsForResourcesRequest", &req) {
		return
	}
	if n := len(req.ResourceIds.ResourceId); n == 0 || n > 10 {
		h.fail(w, r, invalidInput(fmt.Sprintf("ResourceIds must name 1 to 10 resources, not %d", n)))
		return
	}
	var resp listTagsManyResponse
	for _, id := range req.ResourceIds.ResourceId {
		set, err := h.tagSet(r, r.PathValue("type"), id)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		resp.ResourceTagSets.ResourceTagSet = append(resp.ResourceTagSets.ResourceTagSet, set)
	}
	writeXML(w, http.StatusOK, resp)
}

// --- TestDNSAnswer -------------------------------------------------------------------------------

type testDNSAnswerResponse struct {
	XMLName    xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ TestDNSAnswerResponse"`
	Nameserver string
	RecordName string
	RecordType string
	RecordData struct {
		RecordDataEntry []string
	}
	ResponseCode string
	Protocol     string
}

// testDNSAnswer answers from the snapshot DNS serves at this moment: the routing decision a
// resolver querying failoverdns now would get.
func (h *Route53) testDNSAnswer(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	zoneID, name, typ := bareZoneID(q.Get("hostedzoneid")), q.Get("recordname"), q.Get("recordtype")
	switch {
	case zoneID == "" || name == "" || typ == "":
		h.fail(w, r, invalidInput("TestDNSAnswer needs hostedzoneid, recordname and recordtype"))
		return
	case !contains(zone.Types, typ):
		h.fail(w, r, invalidInput(enumMessage(typ, zone.Types)))
		return
	}
	hz, err := h.svc.GetZone(r.Context(), zoneID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	canon, err := zone.CanonicalName(name)
	if err != nil {
		h.fail(w, r, invalidInput(fmt.Sprintf("recordname %q is not a valid domain name", name)))
		return
	}
	if canon != hz.Name && !strings.HasSuffix(canon, "."+hz.Name) {
		h.fail(w, r, invalidInput(fmt.Sprintf("recordname %s is not in the hosted zone %s", canon, hz.Name)))
		return
	}
	if h.opts.Snapshot == nil || h.opts.Snapshot() == nil {
		h.fail(w, r, &service.Error{Code: service.CodeInternal, Message: "DNS is not being served yet; try again in a moment"})
		return
	}
	ds, err := h.delegation(r, hz.Id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	res := h.opts.Snapshot().Lookup(canon, dns.StringToType[typ])
	resp := testDNSAnswerResponse{RecordName: name, RecordType: typ, ResponseCode: dns.RcodeToString[res.Rcode], Protocol: "UDP"}
	if ns := ds.NameServers.NameServer; len(ns) > 0 {
		resp.Nameserver = ns[0]
	}
	resp.RecordData.RecordDataEntry = []string{}
	for _, rr := range res.Answer {
		if rr.Header().Rrtype == dns.StringToType[typ] {
			resp.RecordData.RecordDataEntry = append(resp.RecordData.RecordDataEntry, zone.Value(rr))
		}
	}
	writeXML(w, http.StatusOK, resp)
}
