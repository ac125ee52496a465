package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func init() {
	Register("pause", func(env *Env) *cobra.Command { return newPauseCommand(env, true) })
	Register("resume", func(env *Env) *cobra.Command { return newPauseCommand(env, false) })
}

// Target is a workload a command acts on, found in the current zone and workspace.
type Target struct {
	S         *Session
	Workload  *doradev1.Workload
	Workspace string
}

// FindWorkload reads workload name in the current zone and workspace; a missing one is an
// error naming the nearest workload there.
func FindWorkload(ctx context.Context, env *Env, name string) (*Target, error) {
	s, err := env.Current(ctx)
	if err != nil {
		return nil, err
	}
	ws, ns, err := s.Workspace(ctx)
	if err != nil {
		return nil, err
	}
	wl := &doradev1.Workload{}
	k, _ := LookupKind("workload")
	err = s.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: ObjectName(name)}, wl)
	if apierrors.IsNotFound(err) {
		return nil, s.NotFound(ctx, k, ns, ws, name)
	}
	if err != nil {
		return nil, s.Explain(err, fmt.Sprintf("reading workload %s %s", name, Scope(k, ws, s.Zone.Name)))
	}
	return &Target{S: s, Workload: wl, Workspace: ws}, nil
}

// Where names the target's place in sentences: "in workspace amedeo.setti (zone dc-rov-01)".
func (t *Target) Where() string {
	return fmt.Sprintf("in workspace %s (zone %s)", t.Workspace, t.S.Zone.Name)
}

// Place names the target's place in parentheses: "workspace amedeo.setti, zone dc-rov-01".
func (t *Target) Place() string {
	return fmt.Sprintf("workspace %s, zone %s", t.Workspace, t.S.Zone.Name)
}

func newPauseCommand(env *Env, pause bool) *cobra.Command {
	verb, short := "resume", "Resume paused workloads: their containers come back"
	if pause {
		verb, short = "pause", "Pause workloads: their containers are removed, everything else is kept"
	}
	return &cobra.Command{
		Use:               verb + " WORKLOAD...",
		GroupID:           GroupRun,
		Short:             short,
		Long:              short + ".\n\nIt sets spec.paused; the cluster checks the Dora verb " + capitalise(verb) + " on the workload and says why when you lack it.",
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeWorkloads(env),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, name := range args {
				if err := setPaused(cmd.Context(), env, name, pause); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// setPaused patches spec.paused of a workload. The admission webhook's refusal (the Dora
// verb is missing) is shown as the cluster words it.
func setPaused(ctx context.Context, env *Env, name string, paused bool) error {
	t, err := FindWorkload(ctx, env, name)
	if err != nil {
		return err
	}
	verb, done := "pause", "paused"
	if !paused {
		verb, done = "resume", "resumed"
	}
	if t.Workload.Spec.Paused == paused {
		env.Outf("workload %s is already %s (%s)\n", t.Workload.Name, done, t.Place())
		return nil
	}
	patch := fmt.Appendf(nil, `{"spec":{"paused":%t}}`, paused)
	err = t.S.Client.Patch(ctx, t.Workload, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(FieldManager))
	if err != nil {
		return t.S.Explain(err, fmt.Sprintf("%s workload %s %s", verbing(verb), t.Workload.Name, t.Where()))
	}
	env.Outf("workload.dora.dev/%s %s (%s)\n", t.Workload.Name, done, t.Place())
	return nil
}

// verbing is the -ing form of pause, resume and the like.
func verbing(verb string) string {
	if len(verb) > 1 && verb[len(verb)-1] == 'e' {
		return verb[:len(verb)-1] + "ing"
	}
	return verb + "ing"
}
