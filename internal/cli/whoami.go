package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func init() { Register("whoami", newWhoamiCommand) }

// WhoAmI is who the caller is in a zone, their defaults, grants and credits there.
type WhoAmI struct {
	Zone             string                 `json:"zone"`
	Context          string                 `json:"context"`
	KubernetesUser   string                 `json:"kubernetesUser"`
	Groups           []string               `json:"groups,omitempty"`
	DoraUser         string                 `json:"doraUser,omitempty"`
	DefaultZone      string                 `json:"defaultZone,omitempty"`
	DefaultWorkspace string                 `json:"defaultWorkspace,omitempty"`
	Grants           []doradev1.RoleBinding `json:"grants,omitempty"`
	// Weekly is the User's budget for this zone (spec.credits).
	Weekly string `json:"weekly,omitempty"`
	// Credits is this zone's entry of the UserCredit's status.
	Credits *doradev1.ZoneCredits `json:"credits,omitempty"`
	// Notes say what could not be read, and why.
	Notes []string `json:"notes,omitempty"`
}

func newWhoamiCommand(env *Env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "whoami",
		GroupID: GroupAccount,
		Short:   "Who you are in the zone: Kubernetes and Dora user, defaults, grants, credits",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "" && output != "yaml" && output != "json" {
				return fmt.Errorf("-o %s: use yaml or json", output)
			}
			s, err := env.Current(cmd.Context())
			if err != nil {
				return err
			}
			w, err := Whoami(cmd.Context(), s)
			if err != nil {
				return err
			}
			switch output {
			case "yaml", "json":
				data, err := yaml.Marshal(w)
				if err != nil {
					return err
				}
				if output == "json" {
					if data, err = yaml.YAMLToJSON(data); err != nil {
						return err
					}
					data = append(data, '\n')
				}
				_, err = env.IO.Out.Write(data)
				return err
			}
			return env.Render(func(out *bytes.Buffer) error { return PrintWhoami(out, w, time.Now()) })
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "yaml or json instead of text.")
	return cmd
}

// Whoami reads who the caller is in the session's zone.
func Whoami(ctx context.Context, s *Session) (*WhoAmI, error) {
	who, err := s.Identity(ctx)
	if err != nil {
		return nil, err
	}
	w := &WhoAmI{Zone: s.Zone.Name, Context: s.Zone.Context, KubernetesUser: who.Username, Groups: who.Groups, DoraUser: who.DoraName}
	switch {
	case who.DoraName == "":
		w.Notes = append(w.Notes, fmt.Sprintf("%s is no Dora user (a system identity or service account, or a name without the username prefix)", who.Username))
		return w, nil
	case who.User == nil && apierrors.IsNotFound(who.UserErr):
		w.DoraUser = ""
		w.Notes = append(w.Notes, fmt.Sprintf("there is no Dora User %s in zone %s, so you have no Dora defaults, grants or credits there", who.DoraName, s.Zone.Name))
		return w, nil
	case who.User == nil:
		w.Notes = append(w.Notes, fmt.Sprintf("your Dora User %s cannot be read in zone %s: %v", who.DoraName, s.Zone.Name, who.UserErr))
		return w, nil
	}
	u := who.User
	if u.Spec.Default != nil {
		w.DefaultZone, w.DefaultWorkspace = u.Spec.Default.Zone, u.Spec.Default.Workspace
	}
	w.Grants = u.Spec.Resources
	for _, c := range u.Spec.Credits {
		if c.Zone == s.Zone.Name {
			w.Weekly = string(c.Weekly)
		}
	}
	uc := &doradev1.UserCredit{}
	if err := s.Client.Get(ctx, client.ObjectKey{Name: who.DoraName}, uc); err != nil {
		w.Notes = append(w.Notes, fmt.Sprintf("your credits (UserCredit %s) cannot be read in zone %s: %v", who.DoraName, s.Zone.Name, err))
		return w, nil
	}
	w.Credits = ZoneCreditsOf(uc, s.Zone.Name)
	return w, nil
}

// ZoneCreditsOf is one zone's entry of a UserCredit, or nil.
func ZoneCreditsOf(uc *doradev1.UserCredit, zone string) *doradev1.ZoneCredits {
	for i := range uc.Status.Zones {
		if uc.Status.Zones[i].Zone == zone {
			return &uc.Status.Zones[i]
		}
	}
	return nil
}

// PrintWhoami writes w as text.
func PrintWhoami(out *bytes.Buffer, w *WhoAmI, now time.Time) error {
	fields := [][2]string{
		{"Zone", fmt.Sprintf("%s (kubeconfig context %s)", w.Zone, w.Context)},
		{"Kubernetes user", w.KubernetesUser + groupsText(w.Groups)},
		{"Dora user", orNone(w.DoraUser)},
	}
	if w.DoraUser != "" {
		fields = append(fields, [2]string{"Default zone", orNone(w.DefaultZone)}, [2]string{"Default workspace", orNone(w.DefaultWorkspace)})
	}
	writeFields(out, "", fields)
	if w.DoraUser != "" && (len(w.Grants) > 0 || len(w.Notes) == 0) {
		fmt.Fprintln(out, "Grants:")
		if len(w.Grants) == 0 {
			fmt.Fprintln(out, "  (none)")
		} else {
			t := SimpleTable("Role", "Kind", "Workspace", "Zone")
			for _, g := range w.Grants {
				AddRow(t, g.Role, orDefault(g.Kind, doradev1.All), g.Workspace, orDefault(g.Zone, doradev1.All))
			}
			if err := PrintTable(indent(out, "  "), t, false, false); err != nil {
				return err
			}
		}
	}
	if w.Credits != nil || w.Weekly != "" {
		fmt.Fprintf(out, "Credits in %s:\n", w.Zone)
		writeFields(out, "  ", CreditFields(w.Weekly, w.Credits, now))
	}
	for _, n := range w.Notes {
		fmt.Fprintln(out, "Note:", n)
	}
	return nil
}

func groupsText(groups []string) string {
	if len(groups) == 0 {
		return ""
	}
	return " (groups: " + strings.Join(groups, ", ") + ")"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// CreditFields describe a zone's credits: weekly, used, remaining, burn rate, exhausted and
// when the week resets (in the local time zone, and how long from now).
func CreditFields(weekly string, zc *doradev1.ZoneCredits, now time.Time) [][2]string {
	if zc == nil {
		if weekly == "" {
			return [][2]string{{"Weekly", "no budget in this zone (metered, not limited)"}}
		}
		return [][2]string{{"Weekly", weekly}, {"Used", "nothing counted yet"}}
	}
	budget := string(zc.Weekly)
	if budget == "" {
		budget = orDefault(weekly, "no budget in this zone (metered, not limited)")
	}
	used := orDefault(string(zc.Used), "0")
	if zc.AsOf != nil {
		used += " (as of " + zc.AsOf.Local().Format("2006-01-02 15:04:05 MST") + ")"
	}
	fields := [][2]string{{"Weekly", budget}, {"Used", used}}
	if zc.Weekly != "" {
		fields = append(fields, [2]string{"Remaining", orDefault(string(zc.Remaining), "0")})
	}
	if zc.BurnRatePerHour != "" && zc.BurnRatePerHour != "0" {
		fields = append(fields, [2]string{"Burn rate", string(zc.BurnRatePerHour) + " per hour"})
	}
	exhausted := "no"
	if zc.Exhausted {
		exhausted = "yes: the workloads in this zone are held until the reset"
	}
	fields = append(fields, [2]string{"Exhausted", exhausted})
	if zc.ExhaustsAt != nil {
		fields = append(fields, [2]string{"Runs out", when(zc.ExhaustsAt.Time, now)})
	}
	if zc.NextReset != nil {
		fields = append(fields, [2]string{"Next reset", when(zc.NextReset.Time, now)})
	}
	return fields
}

// when is a time in the local zone and how far from now it is.
func when(t, now time.Time) string {
	s := t.Local().Format("Mon 2006-01-02 15:04 MST")
	if t.After(now) {
		return s + " (in " + duration.HumanDuration(t.Sub(now)) + ")"
	}
	return s + " (" + duration.HumanDuration(now.Sub(t)) + " ago)"
}

// writeFields writes "Name:  value" lines, the values aligned.
func writeFields(out *bytes.Buffer, prefix string, fields [][2]string) {
	width := 0
	for _, f := range fields {
		width = max(width, len(f[0])+1)
	}
	for _, f := range fields {
		fmt.Fprintf(out, "%s%-*s  %s\n", prefix, width, f[0]+":", f[1])
	}
}

// indent writes through to out with prefix at the start of every line.
func indent(out io.Writer, prefix string) io.Writer {
	return &indentWriter{out: out, prefix: prefix, start: true}
}

type indentWriter struct {
	out    io.Writer
	prefix string
	start  bool
}

func (w *indentWriter) Write(p []byte) (int, error) {
	var b strings.Builder
	for _, c := range string(p) {
		if w.start {
			b.WriteString(w.prefix)
			w.start = false
		}
		b.WriteRune(c)
		if c == '\n' {
			w.start = true
		}
	}
	if _, err := io.WriteString(w.out, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}
