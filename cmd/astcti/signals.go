package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/astcti/astcti/cti"
	"github.com/astcti/astcti/cti/stopsignal"
)

// What the signals do (docs/reliability.md, "Signals"). The server: SIGHUP
// rescans the configuration directory (systemctl reload), SIGINT and
// SIGTERM stop it cleanly. The client and the doctor: SIGHUP, SIGINT and
// SIGTERM stop them cleanly (stopsignal.Stops), SIGHUP being the terminal
// they ran in going away; the client logs out, the doctor ends its watch
// and prints what it found. Each names the signal as the server does
// (stopsignal.Name). SIGQUIT keeps Go's meaning everywhere: a dump of
// every goroutine and exit status 2, without the clean stop (a tool for
// debugging a hung process; the next start removes the memberships left,
// cti/stale.go).

// serveSignals runs srv until ctx is done or SIGINT or SIGTERM arrives,
// asking it to rescan its configuration on each SIGHUP meanwhile, and
// logs each signal: the stop one as the shutdown starts, and again once
// it is done. A second stop signal does not cut the shutdown short (it is
// bounded: it waits for the PBX to answer the QueueRemoves, then closes).
func serveSignals(ctx context.Context, log *slog.Logger, srv *cti.Server) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	var (
		wg      sync.WaitGroup
		stopped string // the stop signal's name; read once wg is done
	)
	done := make(chan struct{})
	wg.Go(func() {
		for {
			var sig os.Signal
			select {
			case <-done:
				return
			case sig = <-sigs:
			}
			switch {
			case sig == syscall.SIGHUP && stopped == "":
				log.Info("configuration rescan requested (SIGHUP)")
				if !srv.Reload() {
					log.Info("configuration rescan not needed: the server reads its configuration as it starts")
				}
			case stopped == "":
				stopped = stopsignal.Name(sig)
				log.Info("stopping: removing the queue members and telling the seats", "signal", stopped)
				cancel()
			default:
				log.Info("already stopping", "signal", stopsignal.Name(sig))
			}
		}
	})
	err := srv.Run(ctx)
	close(done)
	wg.Wait()
	if err == nil && stopped != "" {
		log.Info("server stopped", "signal", stopped)
	}
	return err
}
