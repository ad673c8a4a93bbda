//go:build !race

package e2e

// raceEnabled says the tests run under the race detector; the server under test is built with it too.
const raceEnabled = false
