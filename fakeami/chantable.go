package fakeami

import "strings"

// chanTable holds the live channels of a PBX: in creation order for the
// listings (CoreShowChannels, Status, GET /state), by name for the actions
// that name one, and by device for device states, so that no step of a
// call scans every channel. A hung-up channel leaves the creation-order
// list lazily, at the next listing or when the dead outnumber the live,
// which keeps removal O(1) amortised. p.mu guards it.
type chanTable struct {
	order  []*channel            // creation order, with gone channels not yet compacted out
	dead   int                   // gone channels still in order
	byName map[string]*channel   // by strings.ToLower(name)
	byDev  map[string][]*channel // by strings.ToUpper(device)
}

// add registers a new channel.
func (t *chanTable) add(c *channel) {
	if t.byName == nil {
		t.byName = make(map[string]*channel)
		t.byDev = make(map[string][]*channel)
	}
	c.nameKey, c.devKey = strings.ToLower(c.name), strings.ToUpper(c.device)
	t.order = append(t.order, c)
	t.byName[c.nameKey] = c
	t.byDev[c.devKey] = append(t.byDev[c.devKey], c)
}

// remove forgets c, which has hung up (c.gone is set).
func (t *chanTable) remove(c *channel) {
	if t.byName[c.nameKey] == c {
		delete(t.byName, c.nameKey)
	}
	on := t.byDev[c.devKey]
	for i, x := range on {
		if x == c {
			on[i] = on[len(on)-1]
			on[len(on)-1] = nil
			on = on[:len(on)-1]
			break
		}
	}
	if len(on) == 0 {
		delete(t.byDev, c.devKey)
	} else {
		t.byDev[c.devKey] = on
	}
	t.dead++
	if t.dead > len(t.order)/2 {
		t.compact()
	}
}

// compact drops the gone channels from the creation-order list.
func (t *chanTable) compact() {
	if t.dead == 0 {
		return
	}
	live := t.order[:0]
	for _, c := range t.order {
		if !c.gone {
			live = append(live, c)
		}
	}
	clear(t.order[len(live):])
	t.order, t.dead = live, 0
}

// list returns the live channels in creation order. The slice is the
// table's own: it must not be kept beyond the model step, nor ranged over
// while channels are created or destroyed.
func (t *chanTable) list() []*channel {
	t.compact()
	return t.order
}

// count returns the number of live channels.
func (t *chanTable) count() int { return len(t.order) - t.dead }

// named returns the live channel of that name, compared case-insensitively
// as ast_channel_get_by_name does; nil if there is none.
func (t *chanTable) named(name string) *channel { return t.byName[strings.ToLower(name)] }

// onDevice returns the live channels of a device (upper-case key).
func (t *chanTable) onDevice(devKey string) []*channel { return t.byDev[devKey] }

// reset forgets every channel, as a restart does.
func (t *chanTable) reset() { *t = chanTable{} }
