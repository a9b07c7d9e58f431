//go:build unix

package fakeami

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// processResources returns the process's CPU time (user + system), its
// resident set now and at its peak. The current RSS is read from
// /proc/self/statm where there is one (Linux); elsewhere it is 0.
func processResources() (cpuSeconds float64, rss, maxRSS int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		cpuSeconds = tvSeconds(ru.Utime) + tvSeconds(ru.Stime)
		maxRSS = int64(ru.Maxrss)
		if runtime.GOOS != "darwin" && runtime.GOOS != "ios" {
			maxRSS *= 1024 // ru_maxrss is in KiB on Linux and the BSDs, in bytes on Darwin
		}
	}
	return cpuSeconds, currentRSS(), maxRSS
}

func tvSeconds(tv syscall.Timeval) float64 {
	return float64(tv.Sec) + float64(tv.Usec)/1e6
}

// currentRSS reads the second field of /proc/self/statm: resident pages.
func currentRSS() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(data))
	if len(fields) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
