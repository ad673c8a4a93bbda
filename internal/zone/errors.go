package zone

import "strings"

// InvalidChangeBatchError lists every reason a change batch was refused, in Route 53's words.
// Its Error text is Route 53's bracketed, comma-joined form: "[msg1, msg2]".
type InvalidChangeBatchError struct {
	Messages []string
}

func (e *InvalidChangeBatchError) Error() string {
	return "[" + strings.Join(e.Messages, ", ") + "]"
}

// InvalidInputError is a request that is malformed rather than in conflict with the zone
// (Route 53's InvalidInput): a missing field, a value out of range, an unknown enum value.
type InvalidInputError struct {
	Message string
}

func (e *InvalidInputError) Error() string { return e.Message }
