package engine

// hashSet is a set of 64-bit hashes that are mixed already (a block's token hashes): open addressing with
// linear probing, which costs a fraction of a map's insert.
type hashSet struct {
	slots []uint64 // 0: empty
	n     int      // elements, zero included
	zero  bool     // 0 is in the set
}

// add puts h in the set.
func (s *hashSet) add(h uint64) {
	if h == 0 {
		if !s.zero {
			s.zero = true
			s.n++
		}
		return
	}
	if 2*(s.n+1) > len(s.slots) { // at most half full
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return
		case 0:
			s.slots[i] = h
			s.n++
			return
		}
	}
}

func (s *hashSet) grow() {
	old := s.slots
	s.slots = make([]uint64, max(1024, 2*len(old)))
	mask := uint64(len(s.slots) - 1)
	for _, h := range old {
		if h == 0 {
			continue
		}
		i := h & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = h
	}
}

// len is the number of hashes in the set.
func (s *hashSet) len() int { return s.n }

// each calls fn with every hash of the set.
func (s *hashSet) each(fn func(uint64)) {
	if s.zero {
		fn(0)
	}
	for _, h := range s.slots {
		if h != 0 {
			fn(h)
		}
	}
}

// reset empties the set and keeps its room.
func (s *hashSet) reset() {
	if s.n > 0 {
		clear(s.slots)
	}
	s.n, s.zero = 0, false
}
