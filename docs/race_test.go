//go:build race

package docs

// raceBuild tells that the tests run with the race detector: the client
// they build then is too, which reuses the packages the other tests of
// the run compiled.
const raceBuild = true
