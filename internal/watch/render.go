package watch

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// clock is how times of day read in text: the time of day with milliseconds, in the local zone.
func clock(t time.Time) string { return t.Local().Format("15:04:05.000") }

// span is a duration rounded for reading.
func span(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

// Line is one observation as a line of text, as printed when stdout is not a terminal.
func Line(o Observation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s  ", o.Time.UTC().Format(TimeLayout), o.Target)
	switch {
	case o.Error != "":
		b.WriteString("error: " + o.Error)
	case o.Kind == KindHTTP:
		b.WriteString(o.Answer())
	default:
		b.WriteString(o.Rcode + " " + Show(o.Answers))
		if o.TTL != nil {
			fmt.Fprintf(&b, " ttl=%d", *o.TTL)
		}
	}
	fmt.Fprintf(&b, "  rtt=%s", span(time.Duration(o.RTT)))
	return b.String()
}

// JSONLWriter writes observations as JSON lines, each as soon as it is made.
type JSONLWriter struct{ enc *json.Encoder }

// NewJSONLWriter writes to w, which should not buffer (a file), so an interrupted run keeps its lines.
func NewJSONLWriter(w io.Writer) *JSONLWriter { return &JSONLWriter{enc: json.NewEncoder(w)} }

// Write writes one observation.
func (j *JSONLWriter) Write(o Observation) error { return j.enc.Encode(o) }

// CSVHeader is the first row of the CSV file.
var CSVHeader = []string{"time", "target", "kind", "answer", "ttl", "rcode", "status", "headers", "rtt_ms", "error"}

// CSVWriter writes observations as CSV rows, flushed one by one.
type CSVWriter struct{ w *csv.Writer }

// NewCSVWriter writes the header row to w.
func NewCSVWriter(w io.Writer) (*CSVWriter, error) {
	c := &CSVWriter{w: csv.NewWriter(w)}
	if err := c.w.Write(CSVHeader); err != nil {
		return nil, err
	}
	c.w.Flush()
	return c, c.w.Error()
}

// Write writes one observation.
func (c *CSVWriter) Write(o Observation) error {
	ttl, status := "", ""
	if o.TTL != nil {
		ttl = strconv.FormatUint(uint64(*o.TTL), 10)
	}
	if o.Status != 0 {
		status = strconv.Itoa(o.Status)
	}
	var hs []string
	for k, v := range o.Headers {
		hs = append(hs, k+"="+v)
	}
	sort.Strings(hs)
	answer := ""
	if o.Kind == KindDNS && o.Error == "" {
		answer = strings.Join(o.Answers, " ")
	}
	rtt, _ := o.RTT.MarshalJSON()
	if err := c.w.Write([]string{o.Time.UTC().Format(TimeLayout), o.Target, string(o.Kind), answer, ttl, o.Rcode, status,
		strings.Join(hs, " "), string(rtt), o.Error}); err != nil {
		return err
	}
	c.w.Flush()
	return c.w.Error()
}

// WriteText writes the summary for a reader.
func WriteText(w io.Writer, r Result) error {
	var b strings.Builder
	what := strings.TrimSpace(r.Name + " " + r.Type)
	fmt.Fprintf(&b, "summary of %s: %s to %s (%s)\n", what, clock(r.Start.Time), clock(r.End.Time), span(r.End.Sub(r.Start.Time)))
	for _, t := range r.Targets {
		fmt.Fprintf(&b, "\n%s (%s): %d polls, %d errors", t.Target, t.Kind, t.Polls, t.Errors)
		if t.Timeouts > 0 {
			fmt.Fprintf(&b, " (%d timeouts)", t.Timeouts)
		}
		b.WriteString("\n")
		for _, a := range t.Answers {
			fmt.Fprintf(&b, "  answer %-30s first %s  last %s  %d polls\n", Show(a.Answer), clock(a.First.Time), clock(a.Last.Time), a.Polls)
		}
		for _, c := range t.Changes {
			fmt.Fprintf(&b, "  change at %s: %s -> %s (last old answer %s)\n", clock(c.Time.Time), Show(c.Before), Show(c.After), clock(c.LastBefore.Time))
		}
		for _, e := range t.ErrorsBy {
			fmt.Fprintf(&b, "  error  %s: %d times, %s to %s\n", e.Error, e.Count, clock(e.First.Time), clock(e.Last.Time))
		}
		for _, u := range t.Unexpected {
			fmt.Fprintf(&b, "  UNEXPECTED answer %s (neither the old nor the new one)\n", Show(u))
		}
		if o := t.LongestOutage; o != nil && t.Kind == KindHTTP {
			state := "until " + clock(o.End.Time)
			if o.Ongoing {
				state = "still failing at " + clock(o.End.Time)
			}
			fmt.Fprintf(&b, "  longest downtime %s: %d failed polls from %s, %s\n", span(time.Duration(o.Duration)), o.Polls, clock(o.Start.Time), state)
		}
		if t.Kind == KindDNS && r.Overall.New != nil {
			if t.Reached {
				fmt.Fprintf(&b, "  answers %s since %s (%s after time zero)\n", Show(r.Overall.New), clock(t.ReachedAt.Time), span(time.Duration(*t.After)))
			} else {
				fmt.Fprintf(&b, "  did NOT reach %s (last answer: %s)\n", Show(r.Overall.New), showFinal(t.Final))
			}
		}
	}
	o := r.Overall
	fmt.Fprintf(&b, "\noverall (DNS): %d polls, %d errors", o.Polls, o.Errors)
	if o.Timeouts > 0 {
		fmt.Fprintf(&b, " (%d timeouts)", o.Timeouts)
	}
	fmt.Fprintf(&b, "; old answer %s", showFinal(o.Old))
	if o.New != nil {
		fmt.Fprintf(&b, ", new answer %s", Show(o.New))
	}
	b.WriteString("\n")
	if o.FirstNew != nil {
		fmt.Fprintf(&b, "  new first answered at %s\n", clock(o.FirstNew.Time))
	}
	if o.LastOld != nil && o.New != nil {
		fmt.Fprintf(&b, "  old last answered at %s\n", clock(o.LastOld.Time))
	}
	if o.Mixed != nil {
		fmt.Fprintf(&b, "  mixed window %s: old and new both answered from %s to %s\n", span(time.Duration(o.Mixed.Duration)), clock(o.Mixed.Start.Time), clock(o.Mixed.End.Time))
	} else if o.FirstNew != nil {
		b.WriteString("  no mixed window: no server answered old after the first answered new\n")
	}
	for _, u := range o.Unexpected {
		fmt.Fprintf(&b, "  UNEXPECTED answer %s: %d polls from %s to %s\n", Show(u.Answer), u.Polls, clock(u.First.Time), clock(u.Last.Time))
	}
	switch {
	case o.New == nil:
		b.WriteString("  no server changed its answer\n")
	case o.AllReached:
		fmt.Fprintf(&b, "  every server answers %s\n", Show(o.New))
	default:
		fmt.Fprintf(&b, "  NOT every server answers %s\n", Show(o.New))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func showFinal(set []string) string {
	if set == nil {
		return "(none)"
	}
	return Show(set)
}

// Live draws a row per target in place on a terminal with ANSI escapes.
type Live struct {
	w     io.Writer
	names []string
	drawn int
}

// NewLive draws on w, a terminal.
func NewLive(w io.Writer, targets []Target) *Live {
	l := &Live{w: w}
	for _, t := range targets {
		l.names = append(l.names, t.Name)
	}
	return l
}

// Draw redraws every row from the summary as of now.
func (l *Live) Draw(s *Summary, last map[string]Observation, now time.Time) {
	var b strings.Builder
	if l.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", l.drawn)
	}
	width := 0
	for _, n := range l.names {
		width = max(width, len(n))
	}
	for _, n := range l.names {
		polls, errs := s.Counts(n)
		row := fmt.Sprintf("%-*s  ", width, n)
		o, ok := last[n]
		if !ok {
			row += "waiting for the first answer"
		} else {
			cur := "error: " + o.Error
			if o.Error == "" {
				cur = o.Answer()
				if o.Kind == KindDNS {
					cur = o.Rcode + " " + Show(o.Answers)
				}
			}
			row += fmt.Sprintf("%-32s", cur)
			if _, since, ok := s.Latest(n); ok {
				row += fmt.Sprintf("  changed %s ago", span(now.Sub(since)))
			}
			row += fmt.Sprintf("  polls %d  errors %d  rtt %s", polls, errs, span(time.Duration(o.RTT)))
		}
		b.WriteString("\x1b[2K" + row + "\n")
	}
	l.drawn = len(l.names)
	io.WriteString(l.w, b.String())
}
