// Package zone holds hosted zones and record sets in Route 53's shape, the change-batch rules
// that validate and apply changes to them, and BIND master-file import and export, doing no I/O
// beyond the readers and writers it is handed.
package zone

// Zone is a hosted zone: its identity and all of its record sets.
type Zone struct {
	// ID is the hosted zone id without the "/hostedzone/" prefix, e.g. "Z0123456789ABCDEFGHIJ".
	ID string `json:"Id"`
	// Name is the zone's apex as a canonical name: lower case, fully qualified ("example.com.").
	Name            string `json:"Name"`
	CallerReference string `json:"CallerReference,omitempty"`
	Comment         string `json:"Comment,omitempty"`
	// RecordSets are kept in Route 53's listing order (see Less).
	RecordSets []RecordSet `json:"ResourceRecordSets,omitempty"`
}

// RecordSet is a Route 53 ResourceRecordSet. Field names and JSON encoding are exactly those of
// the Route 53 API (and of `aws route53 list-resource-record-sets` output).
type RecordSet struct {
	Name                    string                `json:"Name"`
	Type                    string                `json:"Type"`
	SetIdentifier           string                `json:"SetIdentifier,omitempty"`
	Weight                  *int64                `json:"Weight,omitempty"`
	Region                  string                `json:"Region,omitempty"`
	GeoLocation             *GeoLocation          `json:"GeoLocation,omitempty"`
	Failover                string                `json:"Failover,omitempty"`
	MultiValueAnswer        *bool                 `json:"MultiValueAnswer,omitempty"`
	TTL                     *int64                `json:"TTL,omitempty"`
	ResourceRecords         []ResourceRecord      `json:"ResourceRecords,omitempty"`
	AliasTarget             *AliasTarget          `json:"AliasTarget,omitempty"`
	HealthCheckId           string                `json:"HealthCheckId,omitempty"`
	TrafficPolicyInstanceId string                `json:"TrafficPolicyInstanceId,omitempty"`
	CidrRoutingConfig       *CidrRoutingConfig    `json:"CidrRoutingConfig,omitempty"`
	GeoProximityLocation    *GeoProximityLocation `json:"GeoProximityLocation,omitempty"`
}

// ResourceRecord is one value of a record set, in presentation format ("192.0.2.1", "10 mx.example.com.").
type ResourceRecord struct {
	Value string `json:"Value"`
}

// AliasTarget points a record set at another name; all three fields are required.
type AliasTarget struct {
	HostedZoneId         string `json:"HostedZoneId"`
	DNSName              string `json:"DNSName"`
	EvaluateTargetHealth bool   `json:"EvaluateTargetHealth"`
}

// GeoLocation selects the record set for clients in a continent, country or subdivision.
type GeoLocation struct {
	ContinentCode   string `json:"ContinentCode,omitempty"`
	CountryCode     string `json:"CountryCode,omitempty"`
	SubdivisionCode string `json:"SubdivisionCode,omitempty"`
}

// CidrRoutingConfig selects the record set for clients in a CIDR collection location.
type CidrRoutingConfig struct {
	CollectionId string `json:"CollectionId"`
	LocationName string `json:"LocationName"`
}

// Coordinates are a latitude and longitude, as Route 53 sends them (decimal strings).
type Coordinates struct {
	Latitude  string `json:"Latitude"`
	Longitude string `json:"Longitude"`
}

// GeoProximityLocation selects the record set by distance from a region or coordinates.
type GeoProximityLocation struct {
	AWSRegion      string       `json:"AWSRegion,omitempty"`
	LocalZoneGroup string       `json:"LocalZoneGroup,omitempty"`
	Coordinates    *Coordinates `json:"Coordinates,omitempty"`
	Bias           *int64       `json:"Bias,omitempty"`
}

// Change actions of a change batch.
const (
	ActionCreate = "CREATE"
	ActionDelete = "DELETE"
	ActionUpsert = "UPSERT"
)

// ChangeBatch is exactly the JSON a user hands to
// `aws route53 change-resource-record-sets --change-batch file://x.json`.
type ChangeBatch struct {
	Comment string   `json:"Comment,omitempty"`
	Changes []Change `json:"Changes"`
}

// Change is one action on one record set.
type Change struct {
	Action            string    `json:"Action"`
	ResourceRecordSet RecordSet `json:"ResourceRecordSet"`
}

// Key identifies a record set within a zone: Route 53 keys changes by name, type and set identifier.
type Key struct {
	Name          string
	Type          string
	SetIdentifier string
}

// Key returns the record set's identity.
func (rs RecordSet) Key() Key {
	return Key{Name: rs.Name, Type: rs.Type, SetIdentifier: rs.SetIdentifier}
}

// Diff is the effect of a validated change batch on a zone: record sets to write (whole, replacing
// any with the same key) and keys to remove. It always includes the new SOA.
type Diff struct {
	Put    []RecordSet
	Delete []Key
}
