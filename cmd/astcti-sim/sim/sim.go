package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/astcti/astcti/cti"
	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/scenarios"
)

// Simulation tunables, in one block so that tests can shrink them.
var (
	// readyWait bounds the wait for the simulated seats' first login
	// before the traffic starts anyway.
	readyWait = 5 * time.Second
	// redrawEvery is how often the phones draw new answer and talk times.
	redrawEvery = 10 * time.Second
	// trafficAfter is when the random traffic starts, after the first
	// calls.
	trafficAfter = 2 * time.Second
	// busyEvery is how often the phones' calls are looked at, to make a
	// phone with a call busy (see phones).
	busyEvery = 50 * time.Millisecond
	// amiRetryPause is the server's first pause between AMI attempts.
	amiRetryPause = 200 * time.Millisecond
)

// The manager account of the fake PBX.
const (
	AMIUser   = "astcti"
	AMISecret = "astcti"
)

// Config configures a simulation. The zero value of a field means its
// default, except for the listen addresses: "" means port 0 for AMIListen
// and SeatListen, no control API for ControlListen and no configurator
// for ConfiguratorListen.
type Config struct {
	Dialect fakeami.Dialect
	// Rate is the random traffic, as a scenario writes it: 12/min, 0.5/s,
	// 300/h; "0" for none (the first calls only). Default 12/min.
	Rate string
	// Seats is how many operators the simulation plays: alice and bob,
	// then more (see Operators). 0 plays none.
	Seats int
	// Seed makes the traffic, the phones and the seats' pauses repeatable;
	// 0 picks one (shown in Info).
	Seed int64

	AMIListen     string // the fake PBX's manager interface
	SeatListen    string // the server's seat listener
	ControlListen string // the fake PBX's HTTP control API; "" for none
	// ConfiguratorListen is the web configurator's address, "" for none.
	// With a configurator the server also serves its admin endpoints, on
	// a free port of 127.0.0.1, for the configurator to read.
	ConfiguratorListen string
	// Defaults marks the addresses above that are defaults, not the
	// user's choice: when one is taken, the simulation says by what kind
	// of program if it can tell (Info.Notes) and listens on a free port
	// of the same host instead. A taken address that is not a default is
	// an error.
	Defaults Defaults

	// DataDir holds the server's configuration (a snapshot is written at
	// each start), the configurator's databases (in its "configurator"
	// folder) and, in the live view, the log file. "" is a temporary
	// directory, removed at the end.
	DataDir string
	// Duration stops the simulation after that long; 0 runs until ctx is
	// done.
	Duration time.Duration

	// Out receives the view: a line per event, or the live screen.
	Out io.Writer
	// Live redraws a screen in place with ANSI escape codes (for a
	// terminal) instead of printing a line per event.
	Live bool
	// Log receives the logs of every part when not Live (live, they go to
	// sim.log in DataDir); nil discards them.
	Log      io.Writer
	LogLevel slog.Level

	// Ready, when set, is called once every part listens.
	Ready func(Info)

	// Client is the astcti program the printed client command runs, as
	// the user types it (ClientProgram: "bin/astcti"); "" when there is
	// none, and the command then says how to build it (BuildClient).
	Client string
	// NoOpen adds --no-open to the printed client command, so that its
	// screen pops print their URL: there is no URL opener on this machine
	// (seatclient.OpenerCommand; a PBX's host has often no desktop).
	NoOpen bool
}

// Info says where each part of a running simulation listens.
type Info struct {
	Dialect   string   `json:"dialect"`
	Rate      string   `json:"rate"`
	Seed      int64    `json:"seed"`
	AMI       string   `json:"ami"`
	AMIUser   string   `json:"amiUser"`
	AMISecret string   `json:"amiSecret"`
	Seats     string   `json:"seats"`
	Control   string   `json:"control,omitempty"` // URL of the control API
	Admin     string   `json:"admin,omitempty"`   // URL of the server's admin endpoints
	DataDir   string   `json:"dataDir"`
	LogFile   string   `json:"logFile,omitempty"`
	Free      Operator `json:"free"` // the operator kept for the user
	// Client is the astcti program of ClientCommand; "" when there is
	// none yet (see Config.Client).
	Client    string     `json:"client,omitempty"`
	Simulated []Operator `json:"simulated"` // the operators the simulation plays

	// Configurator is where the web configurator serves and its login;
	// nil without one.
	Configurator *ConfiguratorInfo `json:"configurator,omitempty"`

	// CRM is the demo CRM's URL, the page the screen pops open.
	CRM string `json:"crm"`
	// NoOpen adds --no-open to ClientCommand (Config.NoOpen).
	NoOpen bool `json:"noOpen,omitempty"`

	// Notes says which default addresses were taken, by what, and that
	// a free port was taken instead (Config.Defaults).
	Notes []string `json:"notes,omitempty"`
}

// ClientCommand is the command that connects the user's own seat client.
// Without a Client it runs bin/astcti, which BuildClient builds.
func (in Info) ClientCommand() string {
	prog := in.Client
	if prog == "" {
		prog = "bin/astcti"
	}
	cmd := fmt.Sprintf("%s client --server %s --user %s --password %s --mac %s",
		prog, in.Seats, in.Free.Name, in.Free.Password, in.Free.MAC)
	if in.NoOpen {
		cmd += " --no-open"
	}
	return cmd
}

// ClientHint says how to get the program of ClientCommand when there is
// none yet; "" when there is one.
func (in Info) ClientHint() string {
	if in.Client != "" {
		return ""
	}
	return "build it first, from the source tree: " + BuildClient
}

// Run runs a simulation until ctx is done or cfg.Duration has passed: the
// fake PBX with the demo dialplan, the CTI server with the demo
// configuration, simulated seats that answer calls, and steady random
// traffic. It then stops everything: the seats send QUIT, the server
// removes the queue memberships, and Run returns nil once every goroutine
// it started has ended. It returns an error when a part cannot start or
// fails, and one wrapping ErrOutputClosed when it stopped because cfg.Out
// could not be written.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Rate == "" {
		cfg.Rate = "12/min"
	}
	if cfg.Seats < 0 || cfg.Seats > MaxSeats {
		return fmt.Errorf("seats: %d is not between 0 and %d", cfg.Seats, MaxSeats)
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Seed == 0 {
		cfg.Seed = time.Now().UnixNano()%1_000_000 + 1
	}
	traffic, err := trafficScenario(cfg.Rate, cfg.Seed)
	if err != nil {
		return err
	}
	dir := cfg.DataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "astcti-sim-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	s := &simulation{cfg: cfg, dir: dir, traffic: traffic, ops: Operators(cfg.Seats), out: newOutput(cfg.Out)}
	s.cfg.Out = s.out
	logOut := cfg.Log
	if cfg.Live {
		f, err := os.OpenFile(filepath.Join(dir, "sim.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		logOut, s.logFile = f, f.Name()
	}
	if logOut == nil {
		logOut = io.Discard
	}
	s.log = slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: cfg.LogLevel}))
	return s.run(ctx)
}

// simulation is one run of Run. Its fields are set up by Run and run's
// goroutine; the parts it starts talk through their own APIs.
type simulation struct {
	cfg     Config
	dir     string
	log     *slog.Logger
	logFile string
	ops     []Operator
	phones  *phones // run's goroutine only
	traffic *scenarios.Scenario
	model   *config.Model
	out     *output // cfg.Out is it

	wg sync.WaitGroup // every goroutine run starts
}

func (s *simulation) run(ctx context.Context) error {
	defer s.wg.Wait()
	var err error
	notes := s.pickAddrs()
	if s.model, err = configModel(s.ops); err != nil {
		return err
	}
	crm, err := startCRM()
	if err != nil {
		return fmt.Errorf("demo CRM: %w", err)
	}
	s.wg.Go(crm.serve)
	defer crm.stop()
	withCRM(s.model, crm.URL)
	snapshot, err := config.WriteSnapshot(ctx, s.dir, s.model)
	if err != nil {
		return err
	}
	// The configurator's port is bound before the PBX and the server
	// start, so that a taken one fails at once.
	var cfgr *demoConfigurator
	if s.cfg.ConfiguratorListen != "" {
		if cfgr, err = openConfigurator(ctx, s.dir, s.cfg.ConfiguratorListen, snapshot); err != nil {
			return err
		}
		defer cfgr.close() // after it stops serving: see stopConfigurator below
	}
	var ifaces []string
	for _, op := range s.ops {
		ifaces = append(ifaces, op.Interface)
	}
	s.phones = newPhones(append(ifaces, FreeOperator.Interface), rand.New(rand.NewPCG(uint64(s.cfg.Seed), 0x5eed)))
	sc, err := pbxScenario(s.phones)
	if err != nil {
		return err
	}
	pbx, err := fakeami.NewPBX(fakeami.Options{Dialect: s.cfg.Dialect, Scenario: sc, Seed: s.cfg.Seed, Logger: s.log.With("part", "pbx")})
	if err != nil {
		return err
	}
	info := Info{
		Dialect: s.cfg.Dialect.String(), Rate: s.cfg.Rate, Seed: s.cfg.Seed,
		AMIUser: AMIUser, AMISecret: AMISecret, DataDir: s.dir, LogFile: s.logFile,
		Free: FreeOperator, Simulated: s.ops, Client: s.cfg.Client,
		Notes: notes, CRM: crm.URL, NoOpen: s.cfg.NoOpen,
	}
	stopPBX, err := s.startPBX(pbx, &info)
	if err != nil {
		return err
	}
	defer stopPBX()

	ctiCtx, stopCTI := context.WithCancel(context.Background())
	defer stopCTI()
	ready := make(chan net.Addr, 1)
	adminListen, adminAddr := "", ""
	if cfgr != nil {
		adminListen = "127.0.0.1:0"
	}
	srv := cti.New(cti.Config{
		AMI:       ami.Config{Addr: info.AMI, Username: AMIUser, Secret: AMISecret, RetryPause: amiRetryPause},
		Listen:    orPort0(s.cfg.SeatListen),
		ConfigDir: s.dir,
		Logger:    s.log.With("part", "server"),
		Ready:     func(a net.Addr) { ready <- a },
		// Called before Ready, on the same goroutine: adminAddr is read
		// after ready is received.
		AdminListen: adminListen,
		AdminReady:  func(a net.Addr) { adminAddr = "http://" + a.String() },
	})
	ctiDone := make(chan error, 1)
	s.wg.Go(func() { ctiDone <- srv.Run(ctiCtx) })
	stopServer := func() error {
		stopCTI()
		return <-ctiDone
	}
	select {
	case a := <-ready:
		info.Seats, info.Admin = a.String(), adminAddr
	case err := <-ctiDone:
		return serverEnded(err)
	case <-ctx.Done():
		return stopServer()
	}

	// The configurator serves from here on; it stops first, so that no
	// snapshot is applied while the rest stops.
	cfgCtx, stopCfg := context.WithCancel(context.Background())
	defer stopCfg()
	var cfgDone chan error       // nil without a configurator: never ready
	var cfgStopped chan struct{} // closed when it has stopped serving
	if cfgr != nil {
		info.Configurator = &cfgr.info
		cfgDone, cfgStopped = make(chan error, 1), make(chan struct{})
		s.wg.Go(func() {
			defer close(cfgStopped)
			cfgDone <- cfgr.serve(cfgCtx, s.dir, info.Admin, s.log.With("part", "configurator"))
		})
	}
	stopConfigurator := func() {
		stopCfg()
		if cfgStopped != nil {
			<-cfgStopped
		}
	}
	defer stopConfigurator() // the early returns below; cfgr.close runs after it

	v := newView(s.cfg.Out, s.cfg.Live, pbx.State, info, servicesByContext(s.model))
	viewCtx, stopView := context.WithCancel(context.Background())
	defer stopView()
	if !s.cfg.Live {
		s.printInfo(info)
	}
	s.wg.Go(func() { v.run(viewCtx) })
	if s.cfg.Ready != nil {
		s.cfg.Ready(info)
	}

	seatsCtx, stopSeats := context.WithCancel(context.Background())
	defer stopSeats()
	var seats sync.WaitGroup
	loggedIn := make(chan int, len(s.ops))
	for i, op := range s.ops {
		var once sync.Once
		st := &seat{
			idx: i, op: op, addr: info.Seats, send: v.send,
			rng:   rand.New(rand.NewPCG(uint64(s.cfg.Seed), uint64(i+1))),
			ready: func() { once.Do(func() { loggedIn <- i }) },
		}
		seats.Go(func() { st.run(seatsCtx) })
	}

	err = s.loop(ctx, pbx, loggedIn, ctiDone, cfgDone)

	// Stop in order: the configurator, the seats say QUIT, the server removes what is left of
	// the memberships and ends, then the view shows the end; the fake PBX
	// stops last (deferred).
	stopConfigurator()
	stopSeats()
	seats.Wait()
	if err == nil {
		err = stopServer()
	} else {
		stopCTI()
	}
	stopView()
	<-v.done
	fmt.Fprintln(s.cfg.Out, "astcti-sim: "+v.summary(time.Now()))
	return err
}

// loop starts the traffic once the seats are logged in, then waits for the
// end: ctx done, the duration passed, or the server failing. Meanwhile it
// keeps the phones' behaviour up to date (see phones).
func (s *simulation) loop(ctx context.Context, pbx *fakeami.PBX, loggedIn <-chan int, ctiDone, cfgDone <-chan error) error {
	var end <-chan time.Time
	if s.cfg.Duration > 0 {
		t := time.NewTimer(s.cfg.Duration)
		defer t.Stop()
		end = t.C
	}
	if stop, err := s.waitSeats(ctx, end, loggedIn, ctiDone, cfgDone); stop || err != nil {
		return err
	}
	if err := pbx.Play(firstCalls()); err != nil {
		return err
	}
	traffic := time.NewTimer(trafficAfter)
	defer traffic.Stop()
	redraw := time.NewTicker(redrawEvery)
	defer redraw.Stop()
	busy := time.NewTicker(busyEvery)
	defer busy.Stop()
	for {
		var change *scenarios.Scenario
		select {
		case <-ctx.Done():
			return nil
		case <-end:
			return nil
		case err := <-ctiDone:
			return serverEnded(err)
		case err := <-cfgDone:
			return configuratorEnded(err)
		case <-s.out.failed:
			return s.out.Err()
		case <-traffic.C:
			if s.traffic != nil {
				change = s.traffic
			}
		case <-redraw.C:
			change = s.phones.redraw()
		case <-busy.C:
			change = s.phones.update(pbx.State())
		}
		if change != nil {
			if err := pbx.Play(change); err != nil {
				s.log.Error("cannot play a scenario", "scenario", change.Name, "err", err)
			}
		}
	}
}

// waitSeats waits until every simulated seat has logged in once, or
// readyWait has passed. It reports whether the simulation is to stop
// instead.
func (s *simulation) waitSeats(ctx context.Context, end <-chan time.Time, loggedIn <-chan int, ctiDone, cfgDone <-chan error) (stop bool, err error) {
	wait := time.NewTimer(readyWait)
	defer wait.Stop()
	for n := 0; n < len(s.ops); n++ {
		select {
		case <-loggedIn:
		case <-wait.C:
			s.log.Warn("not every simulated seat logged in; starting the traffic anyway")
			return false, nil
		case <-ctx.Done():
			return true, nil
		case <-end:
			return true, nil
		case err := <-ctiDone:
			return true, serverEnded(err)
		case err := <-cfgDone:
			return true, configuratorEnded(err)
		case <-s.out.failed:
			return true, s.out.Err()
		}
	}
	return false, nil
}

// pickAddrs replaces each default address that is taken by a free port
// of its host (pickAddr) and returns the notes that say so.
func (s *simulation) pickAddrs() []string {
	var notes []string
	for _, a := range []struct {
		p         part
		addr      *string
		isDefault bool
	}{
		{partAMI, &s.cfg.AMIListen, s.cfg.Defaults.AMI},
		{partSeat, &s.cfg.SeatListen, s.cfg.Defaults.Seat},
		{partControl, &s.cfg.ControlListen, s.cfg.Defaults.Control},
		{partConfigurator, &s.cfg.ConfiguratorListen, s.cfg.Defaults.Configurator},
	} {
		var note string
		if *a.addr, note = pickAddr(a.p, *a.addr, a.isDefault); note != "" {
			notes = append(notes, note)
		}
	}
	return notes
}

// startPBX starts the fake PBX's manager interface and control API, and
// the PBX's clock. It sets the addresses in info and returns the function
// that stops them all.
func (s *simulation) startPBX(pbx *fakeami.PBX, info *Info) (stop func(), err error) {
	srv, err := fakeami.NewServer(fakeami.Config{
		Dialect: s.cfg.Dialect, Username: AMIUser, Secret: AMISecret,
		Engine: pbx, StartTime: pbx.StartTime, Logger: s.log.With("part", "ami"),
	})
	if err != nil {
		return nil, err
	}
	r, err := fakeami.Listen(fakeami.ServeConfig{Server: srv, PBX: pbx, Listen: orPort0(s.cfg.AMIListen), Control: s.cfg.ControlListen})
	if err != nil {
		return nil, fmt.Errorf("fake PBX: %w", err)
	}
	info.AMI = r.Addr
	if r.ControlAddr != "" {
		info.Control = "http://" + r.ControlAddr
	}
	return func() {
		if err := r.Stop(); err != nil {
			s.log.Error("fake PBX", "err", err)
		}
	}, nil
}

// printInfo prints where each part listens, before the lines of the plain
// view.
func (s *simulation) printInfo(in Info) {
	out := s.cfg.Out
	for _, n := range in.Notes {
		fmt.Fprintf(out, "astcti-sim: %s\n", n)
	}
	control := ""
	if in.Control != "" {
		control = ", control API on " + in.Control
	}
	fmt.Fprintf(out, "astcti-sim: fake PBX (dialect %s): AMI on %s (user %s, secret %s)%s\n", in.Dialect, in.AMI, in.AMIUser, in.AMISecret, control)
	admin := ""
	if in.Admin != "" {
		admin = ", admin endpoints on " + in.Admin
	}
	fmt.Fprintf(out, "astcti-sim: CTI server: seats on %s%s, configuration in %s\n", in.Seats, admin, in.DataDir)
	fmt.Fprintf(out, "astcti-sim: demo CRM, the page the screen pops open: %s\n", in.CRM)
	if c := in.Configurator; c != nil {
		fmt.Fprintf(out, "astcti-sim: configurator: %s (user %s, password %s)\n", c.URL, c.User, c.Password)
	}
	var names []string
	for _, op := range in.Simulated {
		names = append(names, op.Name+" ("+op.Interface+")")
	}
	if len(names) == 0 {
		names = append(names, "none")
	}
	fmt.Fprintf(out, "astcti-sim: simulated seats: %s\n", strings.Join(names, ", "))
	fmt.Fprintf(out, "astcti-sim: your seat: %s\n", in.ClientCommand())
	if h := in.ClientHint(); h != "" {
		fmt.Fprintf(out, "astcti-sim: (no astcti program beside astcti-sim: %s)\n", h)
	}
	rate := in.Rate + " into sales (101) and support (102, queue astcti-queue)"
	if in.Rate == "0" {
		rate = "none after the first calls"
	}
	fmt.Fprintf(out, "astcti-sim: traffic: %s, seed %d; Ctrl-C stops\n", rate, in.Seed)
}

// servicesByContext maps each inbound service's context to its name.
func servicesByContext(m *config.Model) map[string]string {
	out := map[string]string{}
	for _, sv := range m.Services {
		if sv.Type == config.Inbound {
			out[sv.Context] = sv.Name
		}
	}
	return out
}

// serverEnded is the error of a server whose Run returned before the
// simulation ended.
func serverEnded(err error) error {
	if err == nil {
		return errors.New("server: stopped")
	}
	return fmt.Errorf("server: %w", err)
}

// configuratorEnded is the error of a configurator that stopped serving
// before the simulation ended.
func configuratorEnded(err error) error {
	if err == nil {
		return errors.New("configurator: stopped")
	}
	return err // configurator.Serve's errors say "configurator: "
}

func orPort0(addr string) string {
	if addr == "" {
		return "127.0.0.1:0"
	}
	return addr
}
