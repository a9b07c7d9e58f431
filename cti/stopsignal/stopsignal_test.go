//go:build unix

package stopsignal

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestName(t *testing.T) {
	tests := []struct {
		sig  os.Signal
		want string
	}{
		{syscall.SIGHUP, "SIGHUP"},
		{os.Interrupt, "SIGINT"},
		{syscall.SIGTERM, "SIGTERM"},
		{syscall.SIGQUIT, "SIGQUIT"},
		{syscall.SIGUSR1, syscall.SIGUSR1.String()},
	}
	for _, tc := range tests {
		if got := Name(tc.sig); got != tc.want {
			t.Errorf("Name(%v) = %q, want %q", tc.sig, got, tc.want)
		}
	}
}

// TestNotifyContextNamesTheSignal sends each stop signal to the test
// process itself: NotifyContext catches it (the process lives on), and
// its context ends with a cause naming it, which Is context.Canceled.
func TestNotifyContextNamesTheSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM} {
		t.Run(Name(sig), func(t *testing.T) {
			ctx, stop := NotifyContext(context.Background())
			defer stop()
			_, ok := Cause(ctx)
			require.False(t, ok, "no signal yet")
			require.NoError(t, syscall.Kill(os.Getpid(), sig))
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Second):
				t.Fatalf("%v did not end the context within 10 s", sig)
			}
			e, ok := Cause(ctx)
			require.True(t, ok, "Cause after %v", sig)
			assert.Equal(t, sig, e.Signal)
			assert.Equal(t, "stopped on a signal ("+Name(sig)+")", e.Error())
			assert.ErrorIs(t, context.Cause(ctx), context.Canceled)
			assert.ErrorIs(t, ctx.Err(), context.Canceled)

			var log strings.Builder
			assert.True(t, Log(ctx, slog.New(slog.NewTextHandler(&log, nil))))
			assert.Contains(t, log.String(), `msg="stopped on a signal" signal=`+Name(sig)+"\n")
			stop()
			stop() // twice is harmless
		})
	}
}

// TestNoSignalNoCause: a context that ends otherwise (its parent
// cancelled, a deadline, stop) has no signal as its cause, and Log says
// nothing.
func TestNoSignalNoCause(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	ctx, stop := NotifyContext(parent)
	defer stop()
	cancel()
	<-ctx.Done()
	_, ok := Cause(ctx)
	assert.False(t, ok, "parent cancelled")

	dctx, dcancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer dcancel()
	ctx, stop2 := NotifyContext(dctx)
	defer stop2()
	<-ctx.Done()
	_, ok = Cause(ctx)
	assert.False(t, ok, "deadline")
	assert.True(t, errors.Is(ctx.Err(), context.DeadlineExceeded))

	ctx, stop3 := NotifyContext(context.Background())
	stop3()
	<-ctx.Done()
	var log strings.Builder
	assert.False(t, Log(ctx, slog.New(slog.NewTextHandler(&log, nil))), "stopped")
	assert.Empty(t, log.String())
}
