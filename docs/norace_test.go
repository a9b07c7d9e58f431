//go:build !race

package docs

// raceBuild tells that the tests run with the race detector (race_test.go).
const raceBuild = false
