package transfer

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a one-line progress bar on w, at most every redrawEvery and once at the end.
// A nil *progress does nothing, so callers need no checks.
type progress struct {
	w      io.Writer
	label  string
	total  int64 // 0: unknown
	done   int64
	start  time.Time
	last   time.Time
	now    func() time.Time
	drawn  int // length of the line last drawn, to blank what a shorter one leaves
	closed bool
}

const redrawEvery = 200 * time.Millisecond

// newProgress is nil when w is nil.
func newProgress(w io.Writer, label string, total int64) *progress {
	if w == nil {
		return nil
	}
	p := &progress{w: w, label: label, total: total, now: time.Now}
	p.start = p.now()
	return p
}

// add counts n more bytes moved.
func (p *progress) add(n int64) {
	if p == nil {
		return
	}
	p.done += n
	if now := p.now(); now.Sub(p.last) >= redrawEvery {
		p.last = now
		p.draw(now)
	}
}

// finish draws the last state and ends the line.
func (p *progress) finish() {
	if p == nil || p.closed {
		return
	}
	p.closed = true
	p.draw(p.now())
	_, _ = io.WriteString(p.w, "\n")
}

func (p *progress) draw(now time.Time) {
	line := formatProgress(p.label, p.done, p.total, now.Sub(p.start))
	pad := ""
	if n := p.drawn - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.drawn = len(line)
	_, _ = io.WriteString(p.w, "\r"+line+pad)
}

// progressReader counts what is read through it.
type progressReader struct {
	r io.Reader
	p *progress
}

func (r progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.p.add(int64(n))
	return n, err
}

// barWidth is the number of cells in the bar.
const barWidth = 24

// formatProgress is the progress line: the label, bytes moved of the total, a bar, the
// percentage, the rate and the time left. With no total (0) it is the label, the bytes and
// the rate.
//
//	upload data  45.0 MiB / 100.0 MiB [==========>             ]  45%  9.0 MiB/s  ETA 6s
func formatProgress(label string, done, total int64, elapsed time.Duration) string {
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	rateText := ibytes(int64(rate)) + "/s"
	if total <= 0 {
		return fmt.Sprintf("%s  %s  %s", label, ibytes(done), rateText)
	}
	frac := min(float64(done)/float64(total), 1)
	cells := int(frac * barWidth)
	bar := strings.Repeat("=", cells)
	if cells < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-cells-1)
	}
	eta := "--"
	switch {
	case done >= total:
		eta = formatDuration(elapsed)
	case rate > 0:
		eta = formatDuration(time.Duration(float64(total-done) / rate * float64(time.Second)))
	}
	when := "ETA"
	if done >= total {
		when = "in"
	}
	return fmt.Sprintf("%s  %s / %s [%s] %3d%%  %s  %s %s", label, ibytes(done), ibytes(total), bar, int(frac*100), rateText, when, eta)
}

// ibytes writes a byte count in powers of 1024: 512 B, 1.5 KiB, 20.0 MiB.
func ibytes(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	i := -1
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, units[i])
}

// formatDuration writes a duration to the second: 7s, 1m05s, 2h03m.
func formatDuration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	default:
		return fmt.Sprintf("%dh%02dm", s/3600, (s%3600)/60)
	}
}
