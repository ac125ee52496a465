package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/dora-hpc/dora-operator/internal/doradoc"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

func init() { Register("apply", newApplyCommand) }

// Dry-run modes of apply and delete.
const (
	DryRunNone   = "none"
	DryRunClient = "client"
	DryRunServer = "server"
)

// DocFlags are the inputs of apply and delete: -f, -R and -e.
type DocFlags struct {
	Files     []string
	Recursive bool
	Vars      []string
}

// AddFlags adds -f, -R and -e.
func (f *DocFlags) AddFlags(cmd *cobra.Command, verb string) {
	cmd.Flags().StringSliceVarP(&f.Files, "filename", "f", nil, "Files or directories of documents to "+verb+" (Dora's own or dora.dev CRD YAML, several per file); - reads stdin.")
	cmd.Flags().BoolVarP(&f.Recursive, "recursive", "R", false, "Read the directories given with -f, and every directory below them.")
	cmd.Flags().StringArrayVarP(&f.Vars, "env", "e", nil, "NAME=value: replace $NAME and ${NAME} in the documents with value before reading them (repeatable).")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
}

// applyOptions are apply's flags.
type applyOptions struct {
	Docs   DocFlags
	Out    *OutputFlags
	DryRun string
	Force  bool
	// Wait bounds how long a document waits for the namespace of a workspace the same
	// apply creates.
	Wait time.Duration
}

func newApplyCommand(env *Env) *cobra.Command {
	o := &applyOptions{Out: NewOutputFlags(true)}
	cmd := &cobra.Command{
		Use:     "apply -f FILE|DIRECTORY|-",
		GroupID: GroupBasic,
		Short:   "Apply Dora documents or CRD YAML, all or nothing, each to its zone",
		Long: `Apply documents: Dora's own (apiVersion: v1, kind: Workload, metadata.zone,
metadata.group or metadata.workspace, tabs and all) and dora.dev/v1alpha1 CRD YAML, mixed,
several per file, from files, directories (-R: and below) or stdin (-f -).

All or nothing: every document is translated, then sent to its zone as a server-side
dry run; if any is refused, nothing is written and every refusal is listed with its file,
document, kind, name and field. Then each is applied server-side (field manager
kubectl-dora).

A document names its zone with metadata.zone; without one, it goes to -z or your default
zone. Users, Roles, Workspaces and Zones without a zone go to every configured zone.
Workloads and Volumes without metadata.group go to -g or your default workspace.

-e NAME=value replaces $NAME and ${NAME} first, as Dora's CLI did; references to names
not given stay as they are. --dry-run=client shows the translation without asking any
server, --dry-run=server what the servers would store (with -o yaml, json or dora).`,
		Example: `  kubectl dora apply -f workload.yaml
  kubectl dora apply -f experiments/ -R -e IMAGE=nvcr.io/nvidia/pytorch:24.05-py3
  kubectl dora apply -f workload.yaml --dry-run=client -o yaml
  cat workload.yaml | kubectl dora apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runApply(cmd.Context(), env, o)
		},
	}
	o.Docs.AddFlags(cmd, "apply")
	o.Out.AddFlags(cmd, false)
	cmd.Flags().StringVar(&o.DryRun, "dry-run", DryRunNone, "none, client (translate only) or server (the servers check, nothing is stored).")
	cmd.Flags().Lookup("dry-run").NoOptDefVal = DryRunClient
	cmd.Flags().BoolVar(&o.Force, "force-conflicts", false, "Take over fields another field manager owns.")
	cmd.Flags().DurationVar(&o.Wait, "namespace-timeout", 2*time.Minute, "How long documents wait for the namespace of a workspace this apply creates.")
	return cmd
}

// translateFor reads and translates the documents of apply or delete and plans their
// zones. Problems are printed; the error is then a SilentError.
func translateFor(ctx context.Context, env *Env, f DocFlags, verb string) (*Plan, error) {
	sources, err := ReadSources(f.Files, f.Recursive, env.IO.In)
	if err != nil {
		return nil, err
	}
	vars, err := ParseVariables(f.Vars)
	if err != nil {
		return nil, err
	}
	defaults, defaultZone, zoneErr := documentDefaults(ctx, env)
	tr, errs := Translate(sources, vars, defaults)
	if len(errs) > 0 {
		return nil, refuse(env, errs, verb)
	}
	for _, name := range tr.Unused {
		env.Errf("warning: -e %s: no document refers to $%s\n", name, name)
	}
	in, err := planInput(ctx, env, tr.Docs, defaultZone)
	if err != nil {
		return nil, err
	}
	plan, errs := MakePlan(in)
	if len(errs) > 0 {
		if zoneErr != nil {
			errs = append(errs, fmt.Errorf("(the default zone could not be decided: %w)", zoneErr))
		}
		return nil, refuse(env, errs, verb)
	}
	return plan, nil
}

// documentDefaults are the translator's defaults (the workspace of documents that name
// none: -g, -n, else the caller's default) and the zone of zoned documents that name none
// (-z, else the caller's default). The zone's error is kept for messages; the workspace's is
// left to the translator, which names the documents that need one. The zone is applied by
// the plan, not the translator: a cluster-wide document without a zone must stay without
// one (it goes to every zone).
func documentDefaults(ctx context.Context, env *Env) (doradoc.Defaults, string, error) {
	z, _, zoneErr := env.CurrentZone(ctx)
	d := doradoc.Defaults{}
	switch {
	case env.WorkspaceFlag != "":
		d.Workspace = env.WorkspaceFlag
	case env.NamespaceFlag() != "":
		d.Workspace = env.NamespaceFlag()
	case zoneErr == nil:
		if s, err := env.Session(z); err == nil {
			if ws, _, err := s.Workspace(ctx); err == nil {
				d.Workspace = ws
			}
		}
	}
	return d, z.Name, zoneErr
}

// planInput is the plan's view of the zones.
func planInput(ctx context.Context, env *Env, docs []Doc, defaultZone string) (PlanInput, error) {
	cfg, err := env.Config()
	if err != nil {
		return PlanInput{}, err
	}
	contexts, _, err := env.Contexts()
	if err != nil {
		return PlanInput{}, err
	}
	configured, err := env.ConfiguredZones(ctx)
	if err != nil && len(cfg.Zones) > 0 {
		return PlanInput{}, err
	}
	in := PlanInput{Docs: docs, Default: defaultZone, KnownZones: cfg.ZoneNames()}
	for _, z := range configured {
		in.Configured = append(in.Configured, z.Name)
	}
	if len(in.KnownZones) == 0 {
		in.KnownZones = contexts
	}
	in.Known = func(zone string) bool {
		_, err := cfg.ResolveZone(zone, contexts)
		return err == nil
	}
	return in, nil
}

// refuse prints every refusal and says nothing was done.
func refuse(env *Env, errs []error, verb string) error {
	docs := map[string]bool{}
	for _, err := range errs {
		env.Errln("error:", err)
		var de *DocError
		if errors.As(err, &de) {
			docs[fmt.Sprintf("%s#%d", de.Source, de.Index)] = true
		}
	}
	msg := "nothing was " + pastTense(verb)
	if len(docs) > 0 {
		msg += fmt.Sprintf(": %d document(s) refused", len(docs))
	}
	env.Errln(msg)
	return &SilentError{Err: errors.New(msg)}
}

func pastTense(verb string) string {
	switch {
	case strings.HasSuffix(verb, "e"):
		return verb + "d"
	case strings.HasSuffix(verb, "y"):
		return strings.TrimSuffix(verb, "y") + "ied"
	}
	return verb + "ed"
}

func runApply(ctx context.Context, env *Env, o *applyOptions) error {
	if !slices.Contains([]string{DryRunNone, DryRunClient, DryRunServer}, o.DryRun) {
		return fmt.Errorf("--dry-run=%s: use none, client or server", o.DryRun)
	}
	if err := o.Out.Validate(false); err != nil {
		return err
	}
	plan, err := translateFor(ctx, env, o.Docs, "apply")
	if err != nil {
		return err
	}
	if o.DryRun == DryRunClient {
		objs := make([]runtime.Object, 0, len(plan.Steps))
		for _, st := range plan.Steps {
			objs = append(objs, st.Object)
		}
		return reportApplied(env, o.Out, plan.Steps, objs, "translated (client dry run: nothing sent)")
	}
	sessions := map[string]*Session{}
	for _, zone := range plan.Zones {
		z, err := env.ResolveZone(zone)
		if err != nil {
			return err
		}
		if sessions[zone], err = env.Session(z); err != nil {
			return err
		}
	}
	checked, errs := checkPlan(ctx, sessions, plan, o.Force)
	if len(errs) > 0 {
		return refuse(env, errs, "apply")
	}
	if o.DryRun == DryRunServer {
		objs := make([]runtime.Object, 0, len(checked))
		for _, c := range checked {
			objs = append(objs, c.result)
		}
		return reportApplied(env, o.Out, plan.Steps, objs, "serverside-applied (server dry run)")
	}
	var applied []Step
	var results []runtime.Object
	for _, c := range checked {
		s := sessions[c.step.Zone]
		obj, err := writeStep(ctx, s, c, o.Force, o.Wait)
		if err != nil {
			if len(applied) > 0 {
				_ = reportApplied(env, o.Out, applied, results, "serverside-applied")
			}
			var done []string
			for _, a := range applied {
				done = append(done, a.Doc.Kind.Singular()+" "+a.Doc.Name()+" in "+a.Zone)
			}
			return fmt.Errorf("%w; applied before it: %s; nothing after it was applied", err, orNone(strings.Join(done, ", ")))
		}
		applied = append(applied, c.step)
		results = append(results, obj)
	}
	return reportApplied(env, o.Out, applied, results, "serverside-applied")
}

// checkedStep is a step the server accepted in a dry run, or that waits for the namespace
// of a workspace the same apply creates (its checks that need the namespace come then).
type checkedStep struct {
	step   Step
	result runtime.Object
	// awaitNamespace is set when the step's namespace does not exist yet.
	awaitNamespace bool
}

// checkPlan sends every step as a server-side dry run and returns the refusals: a server's
// own, or a missing namespace no workspace of the plan makes.
func checkPlan(ctx context.Context, sessions map[string]*Session, plan *Plan, force bool) ([]checkedStep, []error) {
	created := map[string]bool{}
	for _, st := range plan.Steps {
		if st.Doc.Kind.Kind == "Workspace" {
			created[st.Zone+"/"+naming.WorkspaceNamespace(st.Object.GetName())] = true
		}
	}
	var checked []checkedStep
	var errs []error
	for _, st := range plan.Steps {
		s := sessions[st.Zone]
		result, err := applyObject(ctx, s, st.Doc.Kind, st.Object, force, true)
		switch {
		case err == nil:
			checked = append(checked, checkedStep{step: st, result: result})
		case isNamespaceMissing(err) && created[st.Zone+"/"+st.Object.GetNamespace()]:
			if err := standInCheck(ctx, s, st, force); err != nil {
				errs = append(errs, err)
				continue
			}
			checked = append(checked, checkedStep{step: st, result: st.Object, awaitNamespace: true})
		case isNamespaceMissing(err):
			errs = append(errs, st.Doc.docError(st.Zone, "metadata.group", "workspace %s has no namespace %s in zone %s: apply its Workspace first (or in the same apply)",
				workspaceOf(st), st.Object.GetNamespace(), st.Zone))
		default:
			errs = append(errs, refusal(s, st, err))
		}
	}
	return checked, errs
}

// standInCheck checks a document whose namespace this apply creates by a dry run in the
// namespace default: the schema and its validation rules do not depend on the namespace.
// Refusals that may (admission webhooks, permissions, an object of the same name there)
// are left to the real apply, once the namespace exists.
func standInCheck(ctx context.Context, s *Session, st Step, force bool) error {
	obj := st.Object.DeepCopy()
	obj.SetNamespace("default")
	_, err := applyObject(ctx, s, st.Doc.Kind, obj, force, true)
	if err == nil || apierrors.IsForbidden(err) || apierrors.IsNotFound(err) || apierrors.IsConflict(err) ||
		apierrors.IsAlreadyExists(err) || strings.Contains(err.Error(), "admission webhook") {
		return nil
	}
	return refusal(s, st, err)
}

func workspaceOf(st Step) string {
	if ws := st.Object.GetAnnotations()[doradoc.AnnotationWorkspace]; ws != "" {
		return ws
	}
	return st.Object.GetNamespace()
}

// isNamespaceMissing reports the API server's refusal of an object in a namespace that
// does not exist.
func isNamespaceMissing(err error) bool {
	var status apierrors.APIStatus
	if !apierrors.IsNotFound(err) || !errors.As(err, &status) {
		return false
	}
	d := status.Status().Details
	return d != nil && d.Kind == "namespaces"
}

// refusal is the DocError of a server's refusal of a step: its own words, with the field
// it names, and who asked when it was a matter of permission.
func refusal(s *Session, st Step, err error) error {
	field := ""
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		if d := status.Status().Details; d != nil && len(d.Causes) > 0 {
			field = d.Causes[0].Field
		}
	}
	msg := err.Error()
	if apierrors.IsForbidden(err) && !strings.Contains(err.Error(), "admission webhook") {
		msg = fmt.Sprintf("refused for %s: %s", s.Who(), msg)
	}
	if isUnreachable(err) {
		return s.Explain(err, fmt.Sprintf("%s: document %d (%s %s)", st.Doc.Source, st.Doc.Index, st.Doc.Kind.Dora, st.Doc.Name()))
	}
	return st.Doc.docError(st.Zone, field, "%s", msg)
}

// resourceFor is the dynamic client of an object's resource.
func resourceFor(s *Session, k Kind, namespace string) dynamic.ResourceInterface {
	r := s.Dynamic.Resource(k.Resource)
	if k.Namespaced {
		return r.Namespace(namespace)
	}
	return r
}

// applyObject applies obj server-side as kubectl-dora, for real or as a dry run.
func applyObject(ctx context.Context, s *Session, k Kind, obj *unstructured.Unstructured, force, dryRun bool) (*unstructured.Unstructured, error) {
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: force}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	return resourceFor(s, k, obj.GetNamespace()).Apply(ctx, obj.GetName(), obj, opts)
}

// writeStep applies one checked step. A step waiting for its namespace is tried as a dry
// run until the namespace is there and the caller's grants in it are bound (the manager
// makes both), then applied.
func writeStep(ctx context.Context, s *Session, c checkedStep, force bool, timeout time.Duration) (*unstructured.Unstructured, error) {
	st := c.step
	if c.awaitNamespace {
		var last error
		err := wait.PollUntilContextTimeout(ctx, 300*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
			_, last = applyObject(ctx, s, st.Doc.Kind, st.Object, force, true)
			return last == nil || !isNamespaceMissing(last) && !apierrors.IsForbidden(last), nil
		})
		if err != nil && last == nil {
			last = err
		}
		if err != nil || last != nil {
			if isNamespaceMissing(last) {
				return nil, st.Doc.docError(st.Zone, "metadata.group", "the namespace %s of workspace %s did not appear within %s (is the Dora manager running in zone %s?)",
					st.Object.GetNamespace(), workspaceOf(st), timeout, st.Zone)
			}
			return nil, refusal(s, st, last)
		}
	}
	obj, err := applyObject(ctx, s, st.Doc.Kind, st.Object, force, false)
	if err != nil {
		return nil, refusal(s, st, err)
	}
	return obj, nil
}

// reportApplied prints what was applied: a line per object and zone, or the objects in the
// format -o asks.
func reportApplied(env *Env, out *OutputFlags, steps []Step, objs []runtime.Object, verb string) error {
	if out.Format() != "" {
		if out.Format() == "name" {
			for _, st := range steps {
				env.Outf("%s/%s\n", st.Doc.Kind.Ref(), st.Object.GetName())
			}
			return nil
		}
		return out.PrintObjects(env.IO.Out, objs)
	}
	for _, st := range steps {
		where := "zone " + st.Zone
		if st.Doc.Kind.Namespaced {
			where = fmt.Sprintf("workspace %s, zone %s", workspaceOf(st), st.Zone)
		}
		env.Outf("%s/%s %s (%s)\n", st.Doc.Kind.Ref(), st.Object.GetName(), verb, where)
	}
	return nil
}
