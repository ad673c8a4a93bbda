//go:build !linux

package main

import (
	"errors"
	"sync/atomic"
)

// serveLean is Linux-only (one epoll set); elsewhere -lean is refused.
func serveLean([]string, *atomic.Uint64) error { return errors.New("-lean needs Linux") }
