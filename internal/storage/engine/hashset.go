package engine

// hashSet is a set of 64-bit hashes that are mixed already (a block's token hashes). Adds are appended, with
// their repeats, to one of 256 lists by their top byte; the lists are deduplicated when the set is first
// read, each in a small open-addressing table that stays in the CPU's first-level cache. A single table for
// the whole set (10,000 hashes or more for a block) missed the cache on most adds while the flush ran: 37 ns
// an add in BenchmarkIngest/logs, 7 alone (BenchmarkHashSet).
type hashSet struct {
	lists [256][]uint64
	n     int      // distinct hashes, once deduplicated
	dirty bool     // added to since the last dedup
	slots []uint64 // scratch of dedup (0: empty)
}

// add puts h in the set.
func (s *hashSet) add(h uint64) {
	l := &s.lists[h>>56]
	*l = append(*l, h)
	s.dirty = true
}

// dedup removes the repeats from the lists and counts the set.
func (s *hashSet) dedup() {
	if !s.dirty {
		return
	}
	s.dirty, s.n = false, 0
	for i := range s.lists {
		l := s.lists[i]
		if len(l) == 0 {
			continue
		}
		size := 16
		for size < 2*len(l) { // at most half full
			size *= 2
		}
		if cap(s.slots) < size {
			s.slots = make([]uint64, size)
		}
		slots := s.slots[:size]
		clear(slots)
		mask := uint64(size - 1)
		out, zero := l[:0], false
		for _, h := range l {
			if h == 0 {
				if !zero {
					zero = true
					out = append(out, 0)
				}
				continue
			}
			for j := h & mask; ; j = (j + 1) & mask {
				if slots[j] == h {
					break
				}
				if slots[j] == 0 {
					slots[j] = h
					out = append(out, h)
					break
				}
			}
		}
		s.lists[i] = out
		s.n += len(out)
	}
}

// len is the number of hashes in the set.
func (s *hashSet) len() int {
	s.dedup()
	return s.n
}

// each calls fn with every hash of the set.
func (s *hashSet) each(fn func(uint64)) {
	s.dedup()
	for _, l := range s.lists {
		for _, h := range l {
			fn(h)
		}
	}
}

// reset empties the set and keeps its room.
func (s *hashSet) reset() {
	for i := range s.lists {
		s.lists[i] = s.lists[i][:0]
	}
	s.n, s.dirty = 0, false
}
