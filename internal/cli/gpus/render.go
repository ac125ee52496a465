package gpus

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Options are kubectl dora gpus' flags.
type Options struct {
	// Free shows only the GPUs free now (and, with Summary, only the models with some).
	Free bool
	// Model keeps only the GPUs whose model MatchesModel(Model).
	Model string
	// Summary shows one line per model instead of one per GPU.
	Summary bool
	// Nodes shows one line per node instead of one per GPU (Summary wins over it).
	Nodes bool
	// Wide adds the GPUs' UUID and health (-o wide).
	Wide bool
	// NoHeaders leaves out the header line (--no-headers).
	NoHeaders bool
}

// Render writes s as a table, as Options say: per GPU (NODE GPU MODEL MEMORY UTIL STATE
// POD), per node (NODE MODELS TOTAL USED FREE UNAVAILABLE NOTE) or per model (MODEL TOTAL
// USED FREE UNAVAILABLE NODES MAX-FREE-ON-A-NODE). A table with no row says so in one line
// instead ("No GPUs." or "No free GPUs.", naming the model filter).
func Render(w io.Writer, s Summary, opts Options) error {
	s = s.Filter(opts.Model)
	var tw bytes.Buffer
	rows := 0
	row := func(cells ...string) {
		tw.WriteString(strings.Join(cells, "\t") + "\n")
	}
	switch {
	case opts.Summary:
		if !opts.NoHeaders {
			row("MODEL", "TOTAL", "USED", "FREE", "UNAVAILABLE", "NODES", "MAX FREE ON A NODE")
		}
		for _, m := range s.Models {
			if opts.Free && m.Free == 0 {
				continue
			}
			rows++
			row(m.Product, itoa(m.Total), itoa(m.Used), itoa(m.Free), itoa(m.Unavailable), itoa(m.Nodes), itoa(m.MaxFreeOnANode))
		}
	case opts.Nodes:
		if !opts.NoHeaders {
			row("NODE", "MODELS", "TOTAL", "USED", "FREE", "UNAVAILABLE", "NOTE")
		}
		for _, n := range s.Nodes {
			if opts.Free && n.Free == 0 {
				continue
			}
			rows++
			row(n.Name, strings.Join(n.Products, ", "), itoa(n.Total), itoa(n.Used), itoa(n.Free), itoa(n.Unavailable), dash(nodeNote(n)))
		}
	default:
		if !opts.NoHeaders {
			header := []string{"NODE", "GPU", "MODEL", "MEMORY", "UTIL", "STATE", "POD"}
			if opts.Wide {
				header = append(header, "UUID", "HEALTH")
			}
			row(header...)
		}
		for _, n := range s.Nodes {
			for _, g := range n.GPUs {
				if opts.Free && g.State != Free {
					continue
				}
				rows++
				cells := []string{g.Node, index(g), g.Product, memory(g), util(g), state(g, n), dash(g.Pod)}
				if opts.Wide {
					cells = append(cells, dash(g.UUID), health(g))
				}
				row(cells...)
			}
		}
	}
	if rows == 0 {
		return noRows(w, opts)
	}
	return tabulate(w, tw.Bytes())
}

func noRows(w io.Writer, opts Options) error {
	what := "GPUs"
	if opts.Free {
		what = "free GPUs"
	}
	if opts.Model != "" && opts.Model != "All" {
		what += fmt.Sprintf(" of a model matching %q", opts.Model)
	}
	_, err := fmt.Fprintf(w, "No %s.\n", what)
	return err
}

func itoa(n int) string { return strconv.Itoa(n) }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func index(g GPU) string {
	if g.Index < 0 {
		return "-"
	}
	return strconv.Itoa(int(g.Index))
}

// memory is "used/total MiB" for a reported GPU, "total MiB" for a counted one.
func memory(g GPU) string {
	switch {
	case g.MemoryTotalMiB == 0:
		return "-"
	case !g.Reported:
		return fmt.Sprintf("%d MiB", g.MemoryTotalMiB)
	default:
		return fmt.Sprintf("%d/%d MiB", g.MemoryUsedMiB, g.MemoryTotalMiB)
	}
}

func util(g GPU) string {
	if !g.Reported {
		return "-"
	}
	return fmt.Sprintf("%d%%", g.Utilization)
}

// state is the GPU's state with the reason it is unavailable.
func state(g GPU, n NodeSummary) string {
	if g.State != Unavailable {
		return string(g.State)
	}
	if !g.Healthy {
		return "Unavailable (unhealthy)"
	}
	return fmt.Sprintf("Unavailable (%s)", n.Note)
}

func health(g GPU) string {
	switch {
	case g.Healthy:
		return "Healthy"
	case g.Health != "":
		return "Unhealthy: " + g.Health
	default:
		return "Unhealthy"
	}
}

func nodeNote(n NodeSummary) string {
	note := n.Note
	if !n.Reported {
		if note != "" {
			note += "; "
		}
		note += "no agent report: counted from allocatable"
	}
	return note
}

// tabulate writes rows (tab-separated cells, one row a line) to w with the columns aligned,
// as kubectl aligns its tables.
func tabulate(w io.Writer, rows []byte) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	if _, err := tw.Write(rows); err != nil {
		return err
	}
	return tw.Flush()
}
