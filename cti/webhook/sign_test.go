package webhook

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	secret := []byte("s3cret")
	body := []byte(`{"v":1,"event":"ring"}`)
	now := time.Unix(1_700_000_000, 0)
	good := Sign(secret, now, body)
	_, sig, _ := strings.Cut(good, ",")
	other := Sign([]byte("other"), now, body)
	_, otherSig, _ := strings.Cut(other, ",")
	tests := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"good", secret, good, body, now, nil},
		{"good with spaces", secret, "t=1700000000, " + sig, body, now, nil},
		{"good 4 min late", secret, good, body, now.Add(4 * time.Minute), nil},
		{"second v1 matches (key rotation)", secret, other + "," + sig, body, now, nil},
		{"unknown key ignored", secret, good + ",v2=abc", body, now, nil},
		{"tampered body", secret, good, []byte(`{"v":1,"event":"hangup"}`), now, ErrBadSignature},
		{"wrong secret", []byte("guess"), good, body, now, ErrBadSignature},
		{"other secret's signature only", secret, "t=1700000000," + otherSig, body, now, ErrBadSignature},
		{"changed timestamp", secret, "t=1700000001," + sig, body, now, ErrBadSignature},
		{"replayed 6 min later", secret, good, body, now.Add(6 * time.Minute), ErrTooOld},
		{"from the future", secret, good, body, now.Add(-6 * time.Minute), ErrTooOld},
		{"empty", secret, "", body, now, ErrBadHeader},
		{"no timestamp", secret, sig, body, now, ErrBadHeader},
		{"no signature", secret, "t=1700000000", body, now, ErrBadHeader},
		{"two timestamps", secret, "t=1700000000,t=1700000000," + sig, body, now, ErrBadHeader},
		{"negative timestamp", secret, "t=-1," + sig, body, now, ErrBadHeader},
		{"huge timestamp", secret, "t=99999999999999999999," + sig, body, now, ErrBadHeader},
		{"short v1", secret, "t=1700000000,v1=abcd", body, now, ErrBadHeader},
		{"v1 not hex", secret, "t=1700000000,v1=" + strings.Repeat("z", 64), body, now, ErrBadHeader},
		{"no equals", secret, "t=1700000000,junk," + sig, body, now, ErrBadHeader},
		{"too long", secret, good + strings.Repeat(",x=y", 300), body, now, ErrBadHeader},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.secret, tc.header, tc.body, tc.now, 5*time.Minute)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Verify(%q) = %v, want %v", tc.header, err, tc.want)
			}
		})
	}
}

// FuzzVerify feeds Verify's header parser arbitrary headers and bodies: it
// must never panic, and must accept only a header carrying the real
// signature of the body at its timestamp.
func FuzzVerify(f *testing.F) {
	secret := []byte("s3cret")
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"v":1}`)
	f.Add(Sign(secret, now, body), body)
	f.Add("t=1700000000,v1=", body)
	f.Add("t=,v1=00", []byte{})
	f.Add(",,,=,=", []byte("x"))
	f.Add("t=1700000000,v1="+strings.Repeat("0", 64)+",v1=zz", body)
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := Verify(secret, header, body, now, 5*time.Minute)
		if err != nil {
			if !errors.Is(err, ErrBadHeader) && !errors.Is(err, ErrTooOld) && !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify(%q) = %v, not one of the package's errors", header, err)
			}
			return
		}
		ts, _, perr := parseHeader(header)
		if perr != nil {
			t.Fatalf("Verify(%q) accepted a header parseHeader refuses: %v", header, perr)
		}
		_, v1, _ := strings.Cut(Sign(secret, time.Unix(ts, 0), body), ",")
		if !strings.Contains(strings.ToLower(header), v1) {
			t.Fatalf("Verify(%q) accepted a header without the body's signature %s", header, v1)
		}
	})
}
