package service

import (
	"errors"
	"fmt"

	"github.com/failoverdns/failoverdns/internal/zone"
)

// Error codes, named as Route 53 names them; the API layers map them to HTTP statuses.
const (
	CodeInvalidInput               = "InvalidInput"
	CodeInvalidChangeBatch         = "InvalidChangeBatch"
	CodeInvalidDomainName          = "InvalidDomainName"
	CodeNoSuchHostedZone           = "NoSuchHostedZone"
	CodeNoSuchChange               = "NoSuchChange"
	CodeHostedZoneAlreadyExists    = "HostedZoneAlreadyExists"
	CodeConflictingDomainExists    = "ConflictingDomainExists"
	CodeHostedZoneNotEmpty         = "HostedZoneNotEmpty"
	CodeNoSuchHealthCheck          = "NoSuchHealthCheck"
	CodeHealthCheckAlreadyExists   = "HealthCheckAlreadyExists"
	CodeHealthCheckVersionMismatch = "HealthCheckVersionMismatch"
	CodeHealthCheckInUse           = "HealthCheckInUse"
	CodeInternal                   = "InternalFailure"
)

// Error is a failure a client caused and can act on: a Route 53 error code and a message.
type Error struct {
	Code    string
	Message string
	// Messages are the individual reasons of an InvalidChangeBatch.
	Messages []string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// fromZoneError turns the zone package's validation errors into service errors.
func fromZoneError(err error) error {
	var icb *zone.InvalidChangeBatchError
	if errors.As(err, &icb) {
		return &Error{Code: CodeInvalidChangeBatch, Message: icb.Error(), Messages: icb.Messages}
	}
	var ii *zone.InvalidInputError
	if errors.As(err, &ii) {
		return &Error{Code: CodeInvalidInput, Message: ii.Message}
	}
	return &Error{Code: CodeInvalidInput, Message: err.Error()}
}

// wrapStore passes client errors through and prefixes the others with the operation.
func wrapStore(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	if errors.Is(err, errNoSuchZone) {
		return errorf(CodeNoSuchHostedZone, "%v", err)
	}
	return fmt.Errorf("service: %s: %w", op, err)
}
