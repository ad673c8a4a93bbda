package watch

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

// palette colors answers in the order they were first seen; failed polls are drawn in failColor.
var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"}

const failColor = "#d62728"

// colors assigns each answer (by key) a color, in the order answers were first seen.
func (s *Summary) colors() (map[string]string, []string) {
	type first struct {
		key string
		t   time.Time
	}
	var all []first
	seen := map[string]bool{}
	for _, name := range s.order {
		for _, a := range s.targets[name].answers {
			k := key(a.Answer)
			if !seen[k] {
				seen[k] = true
				all = append(all, first{k, a.First.Time})
			}
		}
	}
	for i := 1; i < len(all); i++ { // insertion sort: stable and short
		for j := i; j > 0 && all[j].t.Before(all[j-1].t); j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	colors := map[string]string{}
	var order []string
	for i, f := range all {
		colors[f.key] = palette[i%len(palette)]
		order = append(order, f.key)
	}
	return colors, order
}

// WriteSVG writes the timeline: a lane per target, each poll's span colored by its answer.
func (s *Summary) WriteSVG(w io.Writer, r Result) error {
	_, err := io.WriteString(w, s.svg(r))
	return err
}

func esc(s string) string { return template.HTMLEscapeString(s) }

func (s *Summary) svg(r Result) string {
	const (
		labelW = 260
		plotW  = 900
		laneH  = 26
		top    = 30
	)
	colors, order := s.colors()
	start, end := r.Start.Time, r.End.Time
	total := end.Sub(start)
	if total <= 0 {
		total = time.Second
	}
	x := func(t time.Time) float64 { return labelW + float64(t.Sub(start))/float64(total)*plotW }
	legendTop := top + laneH*len(s.order) + 30
	height := legendTop + 20*(len(order)+1) + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", labelW+plotW+20, height)
	fmt.Fprintf(&b, `<text x="4" y="16" font-weight="bold">%s %s</text>`+"\n", esc(r.Name), esc(r.Type))
	// Time axis: ticks at a round step.
	step := time.Second
	for _, st := range []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour} {
		step = st
		if total/st <= 12 {
			break
		}
	}
	axisY := top + laneH*len(s.order) + 4
	for d := time.Duration(0); d <= total; d += step {
		xx := x(start.Add(d))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ccc"/>`+"\n", xx, top, xx, axisY)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">+%s</text>`+"\n", xx, axisY+14, d)
	}
	for i, name := range s.order {
		tr := s.targets[name]
		y := top + i*laneH
		fmt.Fprintf(&b, `<text x="4" y="%d">%s</text>`+"\n", y+laneH/2+4, esc(name))
		for j, p := range tr.obs {
			next := end
			if j+1 < len(tr.obs) {
				next = tr.obs[j+1].t
			}
			color := colors[p.key]
			title := Show(strings.Fields(p.key))
			if p.failed {
				color, title = failColor, "failed"
			}
			x0, x1 := x(p.t), x(next)
			if x1-x0 < 1 {
				x1 = x0 + 1
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s %s</title></rect>`+"\n",
				x0, y+3, x1-x0, laneH-6, color, esc(p.t.UTC().Format(TimeLayout)), esc(title))
		}
	}
	for i, k := range append(order, "") {
		y := legendTop + 20*i
		color, label := failColor, "failed poll (error, timeout, SERVFAIL, HTTP status outside 200-399)"
		if k != "" {
			color, label = colors[k], Show(strings.Fields(k))
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="14" height="14" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", labelW, y, color, labelW+20, y+12, esc(label))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"show":  Show,
	"clock": func(t Time) string { return t.UTC().Format(TimeLayout) },
	"ms":    func(m Millis) string { return span(time.Duration(m)) },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>failoverdns watch {{.R.Name}} {{.R.Type}}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}.bad{color:#d62728;font-weight:bold}</style>
</head><body>
<h1>failoverdns watch {{.R.Name}} {{.R.Type}}</h1>
<p>{{clock .R.Start}} to {{clock .R.End}}{{with .R.Expect}}; expected {{show .}}{{end}}</p>
{{.SVG}}
<h2>Overall (DNS)</h2>
<table>
<tr><th>polls</th><td>{{.R.Overall.Polls}}</td></tr>
<tr><th>errors</th><td>{{.R.Overall.Errors}} ({{.R.Overall.Timeouts}} timeouts)</td></tr>
<tr><th>old answer</th><td>{{with .R.Overall.Old}}{{show .}}{{end}}</td></tr>
<tr><th>new answer</th><td>{{with .R.Overall.New}}{{show .}}{{else}}no change{{end}}</td></tr>
<tr><th>new first answered</th><td>{{with .R.Overall.FirstNew}}{{clock .}}{{end}}</td></tr>
<tr><th>old last answered</th><td>{{with .R.Overall.LastOld}}{{clock .}}{{end}}</td></tr>
<tr><th>mixed window</th><td>{{with .R.Overall.Mixed}}{{ms .Duration}}: {{clock .Start}} to {{clock .End}}{{else}}none{{end}}</td></tr>
<tr><th>unexpected answers</th><td>{{range .R.Overall.Unexpected}}<span class="bad">{{show .Answer}}</span> ({{.Polls}} polls, {{clock .First}} to {{clock .Last}}) {{else}}none{{end}}</td></tr>
<tr><th>every server reached the new answer</th><td>{{.R.Overall.AllReached}}</td></tr>
</table>
{{range .R.Targets}}
<h2>{{.Target}} ({{.Kind}})</h2>
<p>{{.Polls}} polls, {{.Errors}} errors ({{.Timeouts}} timeouts){{if .Reached}}; answers the new value since {{clock .ReachedAt}} ({{ms .After}} after time zero){{end}}</p>
<table><tr><th>answer</th><th>first seen</th><th>last seen</th><th>polls</th></tr>
{{range .Answers}}<tr><td>{{show .Answer}}</td><td>{{clock .First}}</td><td>{{clock .Last}}</td><td>{{.Polls}}</td></tr>
{{end}}</table>
{{if .Changes}}<table><tr><th>change at</th><th>last old answer</th><th>before</th><th>after</th></tr>
{{range .Changes}}<tr><td>{{clock .Time}}</td><td>{{clock .LastBefore}}</td><td>{{show .Before}}</td><td>{{show .After}}</td></tr>
{{end}}</table>{{end}}
{{if .ErrorsBy}}<table><tr><th>error</th><th>count</th><th>first</th><th>last</th></tr>
{{range .ErrorsBy}}<tr><td>{{.Error}}</td><td>{{.Count}}</td><td>{{clock .First}}</td><td>{{clock .Last}}</td></tr>
{{end}}</table>{{end}}
{{with .LongestOutage}}<p>longest run of failures: {{ms .Duration}} ({{.Polls}} polls) from {{clock .Start}}{{if .Ongoing}}, still failing at the end{{end}}</p>{{end}}
{{end}}
</body></html>
`))

// WriteHTML writes one self-contained HTML page: the timeline and the summary.
func (s *Summary) WriteHTML(w io.Writer, r Result) error {
	return reportTemplate.Execute(w, struct {
		R   Result
		SVG template.HTML
	}{r, template.HTML(s.svg(r))})
}
