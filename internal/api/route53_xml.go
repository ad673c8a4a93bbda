package api

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/failoverdns/failoverdns/internal/health"
	"github.com/failoverdns/failoverdns/internal/service"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// Route53Namespace is the XML namespace of every Route 53 request and response root.
const Route53Namespace = "https://route53.amazonaws.com/doc/2013-04-01/"

// r53Time formats a time as Route 53 does: ISO 8601, UTC, milliseconds.
func r53Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

type xmlHostedZone struct {
	Id                     string
	Name                   string
	CallerReference        string
	Config                 *xmlHostedZoneConfig `xml:",omitempty"`
	ResourceRecordSetCount int64
}

type xmlHostedZoneConfig struct {
	Comment     string `xml:",omitempty"`
	PrivateZone bool
}

func toXMLZone(hz service.HostedZone) xmlHostedZone {
	return xmlHostedZone{Id: hz.Id, Name: zone.Route53Name(hz.Name), CallerReference: hz.CallerReference,
		Config: &xmlHostedZoneConfig{Comment: hz.Config.Comment}, ResourceRecordSetCount: hz.ResourceRecordSetCount}
}

type xmlChangeInfo struct {
	Id          string
	Status      string
	SubmittedAt string
	Comment     string `xml:",omitempty"`
}

func toXMLChange(ci service.ChangeInfo) xmlChangeInfo {
	return xmlChangeInfo{Id: ci.Id, Status: ci.Status, SubmittedAt: r53Time(ci.SubmittedAt), Comment: ci.Comment}
}

type xmlDelegationSet struct {
	NameServers struct {
		NameServer []string
	}
}

type xmlResourceRecords struct {
	ResourceRecord []struct{ Value string }
}

type xmlAliasTarget struct {
	HostedZoneId         string
	DNSName              string
	EvaluateTargetHealth bool
}

type xmlGeoLocation struct {
	ContinentCode   string `xml:",omitempty"`
	CountryCode     string `xml:",omitempty"`
	SubdivisionCode string `xml:",omitempty"`
}

type xmlCidrRoutingConfig struct {
	CollectionId string
	LocationName string
}

type xmlCoordinates struct {
	Latitude  string
	Longitude string
}

type xmlGeoProximityLocation struct {
	AWSRegion      string          `xml:",omitempty"`
	LocalZoneGroup string          `xml:",omitempty"`
	Coordinates    *xmlCoordinates `xml:",omitempty"`
	Bias           *int64          `xml:",omitempty"`
}

type xmlRecordSet struct {
	Name                    string
	Type                    string
	SetIdentifier           string                   `xml:",omitempty"`
	Weight                  *int64                   `xml:",omitempty"`
	Region                  string                   `xml:",omitempty"`
	GeoLocation             *xmlGeoLocation          `xml:",omitempty"`
	Failover                string                   `xml:",omitempty"`
	MultiValueAnswer        *bool                    `xml:",omitempty"`
	TTL                     *int64                   `xml:",omitempty"`
	ResourceRecords         *xmlResourceRecords      `xml:",omitempty"`
	AliasTarget             *xmlAliasTarget          `xml:",omitempty"`
	HealthCheckId           string                   `xml:",omitempty"`
	TrafficPolicyInstanceId string                   `xml:",omitempty"`
	CidrRoutingConfig       *xmlCidrRoutingConfig    `xml:",omitempty"`
	GeoProximityLocation    *xmlGeoProximityLocation `xml:",omitempty"`
}

func toXMLRecordSet(rs zone.RecordSet) xmlRecordSet {
	x := xmlRecordSet{Name: zone.Route53Name(rs.Name), Type: rs.Type, SetIdentifier: rs.SetIdentifier, Weight: rs.Weight,
		Region: rs.Region, Failover: rs.Failover, MultiValueAnswer: rs.MultiValueAnswer, TTL: rs.TTL,
		HealthCheckId: rs.HealthCheckId, TrafficPolicyInstanceId: rs.TrafficPolicyInstanceId}
	if rs.GeoLocation != nil {
		g := xmlGeoLocation(*rs.GeoLocation)
		x.GeoLocation = &g
	}
	if len(rs.ResourceRecords) > 0 {
		x.ResourceRecords = &xmlResourceRecords{}
		for _, v := range rs.ResourceRecords {
			x.ResourceRecords.ResourceRecord = append(x.ResourceRecords.ResourceRecord, struct{ Value string }{v.Value})
		}
	}
	if rs.AliasTarget != nil {
		a := xmlAliasTarget(*rs.AliasTarget)
		x.AliasTarget = &a
	}
	if rs.CidrRoutingConfig != nil {
		c := xmlCidrRoutingConfig(*rs.CidrRoutingConfig)
		x.CidrRoutingConfig = &c
	}
	if g := rs.GeoProximityLocation; g != nil {
		x.GeoProximityLocation = &xmlGeoProximityLocation{AWSRegion: g.AWSRegion, LocalZoneGroup: g.LocalZoneGroup, Bias: g.Bias}
		if g.Coordinates != nil {
			x.GeoProximityLocation.Coordinates = &xmlCoordinates{Latitude: g.Coordinates.Latitude, Longitude: g.Coordinates.Longitude}
		}
	}
	return x
}

func (x xmlRecordSet) recordSet() zone.RecordSet {
	rs := zone.RecordSet{Name: x.Name, Type: x.Type, SetIdentifier: x.SetIdentifier, Weight: x.Weight, Region: x.Region,
		Failover: x.Failover, MultiValueAnswer: x.MultiValueAnswer, TTL: x.TTL, HealthCheckId: x.HealthCheckId,
		TrafficPolicyInstanceId: x.TrafficPolicyInstanceId}
	if x.GeoLocation != nil {
		g := zone.GeoLocation(*x.GeoLocation)
		rs.GeoLocation = &g
	}
	if x.ResourceRecords != nil {
		rs.ResourceRecords = []zone.ResourceRecord{}
		for _, v := range x.ResourceRecords.ResourceRecord {
			rs.ResourceRecords = append(rs.ResourceRecords, zone.ResourceRecord{Value: v.Value})
		}
	}
	if x.AliasTarget != nil {
		a := zone.AliasTarget(*x.AliasTarget)
		rs.AliasTarget = &a
	}
	if x.CidrRoutingConfig != nil {
		c := zone.CidrRoutingConfig(*x.CidrRoutingConfig)
		rs.CidrRoutingConfig = &c
	}
	if g := x.GeoProximityLocation; g != nil {
		rs.GeoProximityLocation = &zone.GeoProximityLocation{AWSRegion: g.AWSRegion, LocalZoneGroup: g.LocalZoneGroup, Bias: g.Bias}
		if g.Coordinates != nil {
			rs.GeoProximityLocation.Coordinates = &zone.Coordinates{Latitude: g.Coordinates.Latitude, Longitude: g.Coordinates.Longitude}
		}
	}
	return rs
}

type xmlChildHealthChecks struct {
	ChildHealthCheck []string
}

type xmlRegions struct {
	Region []string
}

type xmlAlarmIdentifier struct {
	Region string
	Name   string
}

// xmlHealthCheckConfig is Route 53's HealthCheckConfig. RequestInterval is read as a number of
// seconds (a fraction is failoverdns's extension) and written rounded up to a whole number, the
// integer every SDK expects.
type xmlHealthCheckConfig struct {
	IPAddress                    string                `xml:",omitempty"`
	Port                         *int                  `xml:",omitempty"`
	Type                         string                `xml:",omitempty"`
	ResourcePath                 string                `xml:",omitempty"`
	FullyQualifiedDomainName     string                `xml:",omitempty"`
	SearchString                 string                `xml:",omitempty"`
	RequestInterval              *float64              `xml:",omitempty"`
	FailureThreshold             *int                  `xml:",omitempty"`
	MeasureLatency               *bool                 `xml:",omitempty"`
	Inverted                     *bool                 `xml:",omitempty"`
	Disabled                     *bool                 `xml:",omitempty"`
	HealthThreshold              *int                  `xml:",omitempty"`
	ChildHealthChecks            *xmlChildHealthChecks `xml:",omitempty"`
	EnableSNI                    *bool                 `xml:",omitempty"`
	Regions                      *xmlRegions           `xml:",omitempty"`
	AlarmIdentifier              *xmlAlarmIdentifier   `xml:",omitempty"`
	InsufficientDataHealthStatus string                `xml:",omitempty"`
	RoutingControlArn            string                `xml:",omitempty"`
}

var healthCheckTypes = []string{"HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP", "CALCULATED", "CLOUDWATCH_METRIC", "RECOVERY_CONTROL"}

func (x xmlHealthCheckConfig) config() (health.Config, error) {
	if !contains(healthCheckTypes, x.Type) {
		return health.Config{}, invalidInput(enumMessage(x.Type, healthCheckTypes))
	}
	if x.AlarmIdentifier != nil || x.RoutingControlArn != "" || x.Type == "CLOUDWATCH_METRIC" || x.Type == "RECOVERY_CONTROL" {
		return health.Config{}, invalidInput("failoverdns does not run CLOUDWATCH_METRIC or RECOVERY_CONTROL health checks (no AlarmIdentifier, no RoutingControlArn); use an HTTP, HTTPS, TCP or CALCULATED check")
	}
	c := health.Config{Type: x.Type, IPAddress: x.IPAddress, ResourcePath: x.ResourcePath,
		FullyQualifiedDomainName: x.FullyQualifiedDomainName, SearchString: x.SearchString,
		InsufficientDataHealthStatus: x.InsufficientDataHealthStatus, EnableSNI: x.EnableSNI}
	if x.Port != nil {
		c.Port = *x.Port
	}
	if x.RequestInterval != nil {
		c.RequestInterval = *x.RequestInterval
	}
	if x.FailureThreshold != nil {
		c.FailureThreshold = *x.FailureThreshold
	}
	c.MeasureLatency = deref(x.MeasureLatency)
	c.Inverted = deref(x.Inverted)
	c.Disabled = deref(x.Disabled)
	if x.HealthThreshold != nil {
		c.HealthThreshold = *x.HealthThreshold
	}
	if x.ChildHealthChecks != nil {
		c.ChildHealthChecks = x.ChildHealthChecks.ChildHealthCheck
	}
	if x.Regions != nil {
		c.Regions = x.Regions.Region
	}
	return c, nil
}

func toXMLConfig(c health.Config) xmlHealthCheckConfig {
	x := xmlHealthCheckConfig{IPAddress: c.IPAddress, Type: c.Type, ResourcePath: c.ResourcePath,
		FullyQualifiedDomainName: c.FullyQualifiedDomainName, SearchString: c.SearchString,
		MeasureLatency: &c.MeasureLatency, Inverted: &c.Inverted, Disabled: &c.Disabled, EnableSNI: c.EnableSNI,
		InsufficientDataHealthStatus: c.InsufficientDataHealthStatus}
	if c.Type == health.TypeCalculated {
		x.HealthThreshold = &c.HealthThreshold
		x.ChildHealthChecks = &xmlChildHealthChecks{ChildHealthCheck: c.ChildHealthChecks}
		return x
	}
	if c.Port != 0 {
		x.Port = &c.Port
	}
	iv := math.Ceil(c.Interval().Seconds())
	x.RequestInterval = &iv
	fall, _ := c.Thresholds()
	x.FailureThreshold = &fall
	if len(c.Regions) > 0 {
		x.Regions = &xmlRegions{Region: c.Regions}
	}
	return x
}

type xmlHealthCheck struct {
	Id                 string
	CallerReference    string
	HealthCheckConfig  xmlHealthCheckConfig
	HealthCheckVersion int64
}

func toXMLCheck(hc service.HealthCheck) xmlHealthCheck {
	return xmlHealthCheck{Id: hc.Id, CallerReference: hc.CallerReference, HealthCheckConfig: toXMLConfig(hc.HealthCheckConfig), HealthCheckVersion: hc.HealthCheckVersion}
}

type xmlTag struct {
	Key   string
	Value string
}

type xmlTags struct {
	Tag []xmlTag
}

type xmlResourceTagSet struct {
	ResourceType string
	ResourceId   string
	Tags         xmlTags
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func invalidInput(msg string) *service.Error {
	return &service.Error{Code: service.CodeInvalidInput, Message: msg}
}

func enumMessage(value string, enum []string) string {
	return fmt.Sprintf("Invalid XML ; cvc-enumeration-valid: Value '%s' is not facet-valid with respect to enumeration '[%s]'. It must be a value from the enumeration.", value, strings.Join(enum, ", "))
}

// decodeXML reads a request document strictly: the root must be root, every element must be one
// the operation's schema has at that place (SDKs never send others), and every value must parse.
// The error is an InvalidInput in Route 53's "Invalid XML ; cvc-..." style naming the element.
func decodeXML(body []byte, root string, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return invalidInput(fmt.Sprintf("Invalid XML ; Premature end of file: the body must be a %s document", root))
	}
	if err := checkElements(body, root, reflect.TypeOf(v).Elem()); err != nil {
		return err
	}
	if err := xml.Unmarshal(body, v); err != nil {
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return invalidInput(fmt.Sprintf("Invalid XML ; line %d: %s", se.Line, se.Msg))
		}
		var ne *strconv.NumError
		if errors.As(err, &ne) {
			return invalidInput(fmt.Sprintf("Invalid XML ; cvc-datatype-valid: '%s' is not a valid value for its element (%v)", ne.Num, ne.Err))
		}
		return invalidInput("Invalid XML ; " + err.Error())
	}
	return nil
}

// xmlSchema maps a struct type to its child elements' types.
type xmlSchema map[string]reflect.Type

var schemas sync.Map // reflect.Type -> xmlSchema

func schemaOf(t reflect.Type) xmlSchema {
	if s, ok := schemas.Load(t); ok {
		return s.(xmlSchema)
	}
	s := xmlSchema{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Name == "XMLName" {
			continue
		}
		tag := f.Tag.Get("xml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || strings.Contains(opts, "attr") || strings.Contains(opts, "chardata") || strings.Contains(opts, "innerxml") {
			continue
		}
		if name == "" {
			name = f.Name
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer || (ft.Kind() == reflect.Slice && ft.Elem().Kind() != reflect.Uint8) {
			ft = ft.Elem()
		}
		s[name] = ft
	}
	schemas.Store(t, s)
	return s
}

func checkElements(body []byte, root string, t reflect.Type) error {
	dec := xml.NewDecoder(bytes.NewReader(body))
	var stack []reflect.Type
	var names []string
	var text []byte // the character data of the current element
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(names) > 0 {
				return invalidInput("Invalid XML ; XML document structures must start and end within the same entity.")
			}
			return nil
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return invalidInput(fmt.Sprintf("Invalid XML ; line %d: %s", se.Line, se.Msg))
			}
			return invalidInput("Invalid XML ; " + err.Error())
		}
		switch el := tok.(type) {
		case xml.StartElement:
			name := el.Name.Local
			if len(stack) == 0 {
				if len(names) > 0 || name != root {
					return invalidInput(fmt.Sprintf("Invalid XML ; cvc-elt.1.a: Cannot find the declaration of element '%s'; the body must be a %s document", name, root))
				}
				if el.Name.Space != "" && el.Name.Space != Route53Namespace {
					return invalidInput(fmt.Sprintf("Invalid XML ; the namespace of %s must be %s, not %s", root, Route53Namespace, el.Name.Space))
				}
				stack, names = append(stack, t), append(names, name)
				continue
			}
			parent := stack[len(stack)-1]
			if parent.Kind() != reflect.Struct {
				return invalidInput(fmt.Sprintf("Invalid XML ; cvc-type.3.1.2: Element '%s' is a simple type, so it must have no element information item [children]; found '%s'", names[len(names)-1], name))
			}
			child, ok := schemaOf(parent)[name]
			if !ok {
				return invalidInput(fmt.Sprintf("Invalid XML ; cvc-complex-type.2.4.a: Invalid content was found starting with element '%s' inside '%s'.", name, names[len(names)-1]))
			}
			stack, names, text = append(stack, child), append(names, name), text[:0]
		case xml.CharData:
			text = append(text, el...)
		case xml.EndElement:
			if err := checkValue(names[len(names)-1], stack[len(stack)-1], strings.TrimSpace(string(text))); err != nil {
				return err
			}
			text = text[:0]
			stack, names = stack[:len(stack)-1], names[:len(names)-1]
			if len(stack) == 0 {
				// Anything but whitespace or comments after the root is refused.
				for {
					tok, err := dec.Token()
					if err == io.EOF {
						return nil
					}
					if err != nil {
						return invalidInput("Invalid XML ; " + err.Error())
					}
					switch tt := tok.(type) {
					case xml.CharData:
						if len(bytes.TrimSpace(tt)) > 0 {
							return invalidInput("Invalid XML ; Content is not allowed in trailing section.")
						}
					case xml.StartElement:
						return invalidInput("Invalid XML ; The markup in the document following the root element must be well-formed.")
					}
				}
			}
		}
	}
}

// checkValue fails when the text of a numeric or boolean element does not parse, naming the element.
func checkValue(name string, t reflect.Type, text string) error {
	var err error
	var typ string
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		_, err = strconv.ParseInt(text, 10, t.Bits())
		typ = "integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		_, err = strconv.ParseUint(text, 10, t.Bits())
		typ = "unsigned integer"
	case reflect.Float32, reflect.Float64:
		_, err = strconv.ParseFloat(text, t.Bits())
		typ = "number"
	case reflect.Bool:
		_, err = strconv.ParseBool(text)
		typ = "boolean"
	default:
		return nil
	}
	if err != nil {
		return invalidInput(fmt.Sprintf("Invalid XML ; cvc-datatype-valid.1.2.1: '%s' is not a valid value for '%s' (element %s).", text, typ, name))
	}
	return nil
}
