package loadgen

import (
	"errors"
	"net"
	"sync"
)

// amiProxy relays the server's AMI connections to the fake PBX, so that a
// run with faults can break the link the way a network does, which the
// fake PBX's control API cannot: drop it (both sockets closed, as a cut
// link that resets), or stall it (nothing more relayed either way, and
// both sockets kept open, as a PBX that hangs or a link that blackholes).
// A new connection after a fault is relayed normally.
type amiProxy struct {
	ln     net.Listener
	target string // the fake PBX's manager interface

	mu    sync.Mutex
	links map[*proxyLink]bool // under mu
	wg    sync.WaitGroup      // the accept loop and every link's relays
}

// proxyLink is one relayed connection: the server's side and the PBX's.
type proxyLink struct {
	down, up net.Conn
	once     sync.Once
	stalled  chan struct{} // closed when the link stalls
	stallMu  sync.Once
	closed   chan struct{} // closed by close
}

// proxyBuffer is what one relay reads at a time.
const proxyBuffer = 32 << 10

// startAMIProxy listens on a loopback port and relays each connection to
// target until close.
func startAMIProxy(target string) (*amiProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &amiProxy{ln: ln, target: target, links: make(map[*proxyLink]bool)}
	p.wg.Go(p.accept)
	return p, nil
}

// addr is the address the server dials instead of the fake PBX's.
func (p *amiProxy) addr() string { return p.ln.Addr().String() }

func (p *amiProxy) accept() {
	for {
		down, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			down.Close() // the server sees a refused PBX, and retries
			continue
		}
		l := &proxyLink{down: down, up: up, stalled: make(chan struct{}), closed: make(chan struct{})}
		p.mu.Lock()
		p.links[l] = true
		p.mu.Unlock()
		p.wg.Go(func() { l.relay(down, up); p.forget(l) })
		p.wg.Go(func() { l.relay(up, down); p.forget(l) })
	}
}

// relay copies from src to dst until either side fails or the link
// closes; once the link stalls it neither reads nor writes any more, and
// waits for the close.
func (l *proxyLink) relay(src, dst net.Conn) {
	buf := make([]byte, proxyBuffer)
	for {
		n, err := src.Read(buf)
		select {
		case <-l.stalled:
			<-l.closed
			return
		default:
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				l.close()
				return
			}
		}
		if err != nil {
			l.close()
			return
		}
	}
}

func (l *proxyLink) close() {
	l.once.Do(func() {
		close(l.closed)
		l.down.Close()
		l.up.Close()
	})
}

func (l *proxyLink) stall() { l.stallMu.Do(func() { close(l.stalled) }) }

func (p *amiProxy) forget(l *proxyLink) {
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

// each calls f for every link open now, and returns them.
func (p *amiProxy) each(f func(*proxyLink)) []*proxyLink {
	p.mu.Lock()
	ls := make([]*proxyLink, 0, len(p.links))
	for l := range p.links {
		ls = append(ls, l)
	}
	p.mu.Unlock()
	for _, l := range ls {
		f(l)
	}
	return ls
}

// drop closes every link open now, and reports how many there were.
func (p *amiProxy) drop() int { return len(p.each((*proxyLink).close)) }

// stall stops relaying on every link open now and returns them: the
// caller closes them once the server has given up on them (a stalled
// link's relays wait for that, whatever the sockets say).
func (p *amiProxy) stall() []*proxyLink { return p.each((*proxyLink).stall) }

// close stops accepting, closes every link and waits for the relays.
func (p *amiProxy) close() {
	p.ln.Close()
	p.drop()
	p.wg.Wait()
}
