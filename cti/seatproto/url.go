package seatproto

import (
	"fmt"
	"net/url"
	"strings"
)

// CheckURL accepts the URLs a browser action may open, for the seat client
// that opens them and for the configuration that writes them alike: absolute http or
// https URLs with a host, made only of the characters RFC 3986 allows
// (letters, digits, "-._~:/?#[]@!$&'()*+,;=" and "%"), so no space, quote,
// control character or non-ASCII byte reaches the opener. The server
// percent-encodes the caller's values into the URL, so a URL it sends
// always passes.
func CheckURL(s string) error {
	if len(s) > MaxActionLen {
		return fmt.Errorf("URL of %d bytes, more than %d", len(s), MaxActionLen)
	}
	for i := 0; i < len(s); i++ {
		if !urlByte(s[i]) {
			return fmt.Errorf("URL %q: character %q is not allowed in a URL (escape it: %%%02X)", s, s[i], s[i])
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("URL %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return fmt.Errorf("URL %q is not absolute", s)
		}
		return fmt.Errorf("URL %q: only http and https URLs are opened, not %s", s, u.Scheme)
	}
	if u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("URL %q has no host", s)
	}
	return nil
}

// urlByte reports whether c may appear in a URL a seat opens.
func urlByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~:/?#[]@!$&'()*+,;=%", c) >= 0
}
