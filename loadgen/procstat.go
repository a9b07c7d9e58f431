package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// procStat is what the kernel says of a process: its CPU seconds and
// memory. It is how the load generator measures the parts it started
// (Linux only: elsewhere the figures are zero).
type procStat struct {
	CPUSeconds  float64 `json:"cpu_seconds"`
	RSSBytes    int64   `json:"rss_bytes"`
	MaxRSSBytes int64   `json:"max_rss_bytes"`
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat's times:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// readProcStat reads /proc/PID/stat and /proc/PID/status.
func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	ps, err := parseProcStat(b)
	if err != nil {
		return ps, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	ps.RSSBytes, ps.MaxRSSBytes, err = readStatusMemory(pid)
	return ps, err
}

// parseProcStat reads the CPU times of a /proc/PID/stat line.
func parseProcStat(b []byte) (procStat, error) {
	var ps procStat
	// The command name, field 2, is in parentheses and may hold spaces:
	// the fields are counted after its closing one.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return ps, errors.New("no command name")
	}
	fields := strings.Fields(string(b[i+1:]))
	// utime and stime are fields 14 and 15 of the whole line, 12 and 13
	// after the name (state is field 3, the first after it).
	if len(fields) < 13 {
		return ps, fmt.Errorf("%d fields after the command name, want 13 or more", len(fields))
	}
	ut, err1 := strconv.ParseInt(fields[11], 10, 64)
	st, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil || ut < 0 || st < 0 {
		return ps, fmt.Errorf("bad times %q %q", fields[11], fields[12])
	}
	ps.CPUSeconds = float64(ut+st) / clockTicks
	return ps, nil
}

// readStatusMemory returns VmRSS and VmHWM of /proc/PID/status in bytes.
func readStatusMemory(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status: %s: %w", pid, key, err)
		}
		if key == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	return rss, hwm, sc.Err()
}
