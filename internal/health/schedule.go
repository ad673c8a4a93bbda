package health

import "time"

// schedule is a 4-ary min-heap of entries by due time. The due times are kept in the heap itself,
// as offsets from an epoch, so that sifting through 10,000 checks reads one array rather than
// the entries; each entry knows its index.
type schedule []slot

type slot struct {
	at time.Duration // due, since the Checker's epoch
	e  *entry
}

func (s schedule) Len() int { return len(s) }

// push adds e, due at at.
func (s *schedule) push(e *entry, at time.Duration) {
	*s = append(*s, slot{at, e})
	e.index = len(*s) - 1
	s.up(e.index)
}

// remove takes the entry at index i off.
func (s *schedule) remove(i int) {
	h := *s
	last := len(h) - 1
	h[i].e.index = -1
	if i != last {
		h[i] = h[last]
		h[i].e.index = i
	}
	h[last] = slot{}
	*s = h[:last]
	if i != last {
		s.fix(i, (*s)[i].at)
	}
}

// fix moves the entry at index i to its place for the due time at.
func (s schedule) fix(i int, at time.Duration) {
	e := s[i].e
	s[i].at = at
	s.up(i)
	s.down(e.index)
}

func (s schedule) up(i int) {
	x := s[i]
	for i > 0 {
		p := (i - 1) / 4
		if s[p].at <= x.at {
			break
		}
		s[i] = s[p]
		s[i].e.index = i
		i = p
	}
	s[i] = x
	x.e.index = i
}

func (s schedule) down(i int) {
	x := s[i]
	n := len(s)
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		for k := c + 1; k < c+4 && k < n; k++ {
			if s[k].at < s[m].at {
				m = k
			}
		}
		if s[m].at >= x.at {
			break
		}
		s[i] = s[m]
		s[i].e.index = i
		i = m
	}
	s[i] = x
	x.e.index = i
}
