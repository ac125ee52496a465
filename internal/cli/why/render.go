package why

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/credits"
)

// maxFreeRows is how many nodes the free GPUs table lists; the rest are summed up.
const maxFreeRows = 10

// Render writes the report as kubectl dora why shows it: the verdict and its causes with
// what to do, the replicas, the free GPUs of the asked models (when a replica waits for
// hardware), the conditions and the recent events.
func (r Report) Render(w io.Writer) error {
	var b bytes.Buffer
	where := ""
	if r.Zone != "" {
		where = ", zone " + r.Zone
	}
	phase := string(r.Phase)
	if phase == "" {
		phase = "no phase yet"
	}
	fmt.Fprintf(&b, "Workload %s in namespace %s%s: %s, %s ready\n\n", r.Name, r.Namespace, where, phase, r.Ready)

	// "Why it is not running" only when nothing says it runs.
	runs := false
	for _, c := range r.Causes {
		runs = runs || (c.Kind.OK() && c.Kind != RollingOut)
	}
	if !runs {
		b.WriteString("Why it is not running:\n")
	}
	for i, c := range r.Causes {
		prefix := ""
		if len(r.Causes) > 1 || !runs {
			prefix = fmt.Sprintf("%d. ", i+1)
		}
		writeCause(&b, prefix, c)
	}

	if len(r.Replicas) > 0 {
		b.WriteString("\nReplicas:\n")
		var tw bytes.Buffer
		fmt.Fprintln(&tw, "  REPLICA\tPOD\tNODE\tSTATE\tRESTARTS\tREASON")
		for _, rep := range r.Replicas {
			reason := rep.Reason
			if rep.Message != "" {
				reason += ": " + rep.Message
			}
			restarts := "-"
			if rep.Pod != "" {
				restarts = fmt.Sprint(rep.Restarts)
			}
			fmt.Fprintf(&tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", rep.Index, dashIfEmpty(rep.Pod), dashIfEmpty(rep.Node), rep.State, restarts, dashIfEmpty(oneLine(reason)))
		}
		_ = tabulate(&b, tw.Bytes())
	}

	if len(r.Free) > 0 {
		what := "any model"
		if len(r.Models) > 0 {
			what = strings.Join(r.Models, " or ")
		}
		fmt.Fprintf(&b, "\nGPUs of %s free now (each replica asks for %d):\n", what, r.GPUsPerReplica)
		var tw bytes.Buffer
		fmt.Fprintln(&tw, "  NODE\tMODEL\tFREE\tTOTAL\tNOTE")
		var restNodes, restFree, restTotal int
		for i, f := range r.Free {
			if i >= maxFreeRows {
				restNodes++
				restFree += f.Free
				restTotal += f.Total
				continue
			}
			fmt.Fprintf(&tw, "  %s\t%s\t%d\t%d\t%s\n", f.Node, f.Product, f.Free, f.Total, dashIfEmpty(f.Note))
		}
		if restNodes > 0 {
			fmt.Fprintf(&tw, "  (%d more nodes)\t\t%d\t%d\t\n", restNodes, restFree, restTotal)
		}
		_ = tabulate(&b, tw.Bytes())
	}

	if len(r.Conditions) > 0 {
		b.WriteString("\nConditions:\n")
		var tw bytes.Buffer
		fmt.Fprintln(&tw, "  TYPE\tSTATUS\tREASON\tSINCE\tMESSAGE")
		for _, c := range r.Conditions {
			since := "-"
			if !c.LastTransitionTime.IsZero() {
				since = age(r.Now, c.LastTransitionTime.Time)
			}
			fmt.Fprintf(&tw, "  %s\t%s\t%s\t%s\t%s\n", c.Type, c.Status, dashIfEmpty(c.Reason), since, dashIfEmpty(oneLine(c.Message)))
		}
		_ = tabulate(&b, tw.Bytes())
	}

	if len(r.Events) > 0 {
		b.WriteString("\nRecent events:\n")
		var tw bytes.Buffer
		fmt.Fprintln(&tw, "  AGE\tTYPE\tREASON\tOBJECT\tMESSAGE")
		for _, ev := range r.Events {
			when := "-"
			if !ev.Time.IsZero() {
				when = age(r.Now, ev.Time)
			}
			if ev.Count > 1 {
				when += fmt.Sprintf(" (x%d)", ev.Count)
			}
			fmt.Fprintf(&tw, "  %s\t%s\t%s\t%s\t%s\n", when, ev.Type, ev.Reason, ev.Object, dashIfEmpty(oneLine(ev.Note)))
		}
		_ = tabulate(&b, tw.Bytes())
	}
	_, err := w.Write(b.Bytes())
	return err
}

// String is the rendered report.
func (r Report) String() string {
	var b strings.Builder
	_ = r.Render(&b)
	return b.String()
}

func writeCause(b *bytes.Buffer, prefix string, c Cause) {
	indent := strings.Repeat(" ", len(prefix))
	fmt.Fprintf(b, "%s%s\n", prefix, capitalize(oneLine(c.Message)))
	for _, d := range c.Details {
		fmt.Fprintf(b, "%s  %s\n", indent, oneLine(d))
	}
	if c.Action != "" {
		fmt.Fprintf(b, "%s  What to do: %s.\n", indent, strings.TrimSuffix(oneLine(c.Action), "."))
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// oneLine keeps a message on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// amountText is an amount as the commands write it, such as 500 or 2.5.
func amountText(a doradev1.Amount) (doradev1.Amount, error) { return credits.Canonical(a) }

// tabulate writes rows (tab-separated cells, one row a line) to w with the columns aligned,
// as kubectl aligns its tables.
func tabulate(w io.Writer, rows []byte) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	if _, err := tw.Write(rows); err != nil {
		return err
	}
	return tw.Flush()
}
