package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the header that carries the timestamp and the
// signature of a delivery: "t=<unix seconds>,v1=<hex HMAC-SHA256>".
const SignatureHeader = "X-Astcti-Signature"

// maxHeaderLen bounds the signature header Verify reads: a real one is
// about 80 bytes; a receiver must not parse megabytes an attacker sends.
const maxHeaderLen = 1024

// Errors of Verify. Check them with errors.Is.
var (
	// ErrBadHeader is a signature header Verify cannot read: empty, too
	// long, without a timestamp or a v1 signature, or with a malformed one.
	ErrBadHeader = errors.New("webhook: malformed signature header")
	// ErrTooOld is a timestamp further than the tolerance from now, in the
	// past (a replay) or in the future.
	ErrTooOld = errors.New("webhook: timestamp outside tolerance")
	// ErrBadSignature is a header whose signatures all fail to match the
	// body under the secret: a wrong secret or a changed body or timestamp.
	ErrBadSignature = errors.New("webhook: signature mismatch")
)

// mac is HMAC-SHA256 under secret of timestamp + "." + body, the signed
// string of every delivery: signing the timestamp with the body means an
// attacker cannot replay an old body with a fresh timestamp.
func mac(secret []byte, ts int64, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(strconv.FormatInt(ts, 10)))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Sign returns the value of SignatureHeader for body sent at t under
// secret: "t=<unix seconds>,v1=<hex of HMAC-SHA256(secret, t + "." + body)>".
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := t.Unix()
	return "t=" + strconv.FormatInt(ts, 10) + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

// Verify checks a delivery as a receiver gets it: header is the value of
// SignatureHeader, body the request body exactly as read (before any JSON
// decoding), now the receiver's clock. It returns nil when one v1
// signature in the header is HMAC-SHA256 under secret of the header's
// timestamp, a ".", and body, and the timestamp is at most tolerance away
// from now (either way: a replayed old delivery is refused, and so is one
// stamped in the future). Otherwise it returns an error wrapping
// ErrBadHeader, ErrTooOld or ErrBadSignature. The comparison is constant
// time. Unknown keys in the header are ignored, so a later scheme (v2)
// can be added beside v1. A receiver should also drop a delivery whose
// Idempotency-Key it has already handled: retries resend it.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, sigs, err := parseHeader(header)
	if err != nil {
		return err
	}
	age := now.Sub(time.Unix(ts, 0))
	if age > tolerance || age < -tolerance {
		return fmt.Errorf("%w: t=%d is %v from now", ErrTooOld, ts, age.Round(time.Second))
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return ErrBadSignature
}

// parseHeader reads "t=<digits>,v1=<64 hex>[,v1=…][,other=…]". The
// timestamp must appear once; at least one v1 must be present; at most 8
// signatures are kept.
func parseHeader(header string) (ts int64, sigs [][]byte, err error) {
	if header == "" || len(header) > maxHeaderLen {
		return 0, nil, fmt.Errorf("%w: length %d", ErrBadHeader, len(header))
	}
	seenT := false
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return 0, nil, fmt.Errorf("%w: %q has no '='", ErrBadHeader, part)
		}
		switch k {
		case "t":
			if seenT {
				return 0, nil, fmt.Errorf("%w: two timestamps", ErrBadHeader)
			}
			seenT = true
			if v == "" || len(v) > 12 || strings.TrimLeft(v, "0123456789") != "" {
				return 0, nil, fmt.Errorf("%w: timestamp %q", ErrBadHeader, v)
			}
			ts, err = strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, nil, fmt.Errorf("%w: timestamp %q", ErrBadHeader, v)
			}
		case "v1":
			if len(v) != 2*sha256.Size {
				return 0, nil, fmt.Errorf("%w: v1 of length %d", ErrBadHeader, len(v))
			}
			s, derr := hex.DecodeString(v)
			if derr != nil {
				return 0, nil, fmt.Errorf("%w: v1 is not hex", ErrBadHeader)
			}
			if len(sigs) < 8 {
				sigs = append(sigs, s)
			}
		}
	}
	if !seenT || len(sigs) == 0 {
		return 0, nil, fmt.Errorf("%w: needs t= and v1=", ErrBadHeader)
	}
	return ts, sigs, nil
}
