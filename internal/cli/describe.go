package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/doradoc"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

func init() { Register("describe", newDescribeCommand) }

func newDescribeCommand(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "describe (WORKLOAD | KIND NAME...)",
		GroupID: GroupBasic,
		Short:   "Show an object in detail; a workload with its replicas, revisions, events and credits",
		Long: `Show objects in detail. For a workload: its conditions, each replica's container with
node, GPUs, state and reason, its kept revisions, the events of it and its containers,
and the credits of its owner in this zone (used, remaining, exhausted, next reset).`,
		Example: `  kubectl dora describe blue.red
  kubectl dora describe wk blue.red
  kubectl dora describe vol home`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeWorkloadOrKind(env),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, _ := LookupKind("workload")
			names := args
			if kind, ok := LookupKind(args[0]); ok && len(args) > 1 {
				k, names = kind, args[1:]
			}
			var errs []error
			for i, name := range names {
				if i > 0 {
					env.Outln()
				}
				if err := describe(cmd.Context(), env, k, name); err != nil {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		},
	}
	return cmd
}

func describe(ctx context.Context, env *Env, k Kind, name string) error {
	now := time.Now()
	if k.Kind == "Workload" {
		t, err := FindWorkload(ctx, env, name)
		if err != nil {
			return err
		}
		v, err := workloadView(ctx, t)
		if err != nil {
			return err
		}
		return env.Render(func(out *bytes.Buffer) error { return RenderWorkload(out, v, now) })
	}
	s, err := env.Current(ctx)
	if err != nil {
		return err
	}
	ws, ns := "", ""
	if k.Namespaced {
		if ws, ns, err = s.Workspace(ctx); err != nil {
			return err
		}
	}
	obj, err := resourceFor(s, k, ns).Get(ctx, ObjectName(name), metav1.GetOptions{})
	if err == nil && k.Container && obj.GetLabels()[doradev1.LabelWorkload] == "" {
		err = apierrors.NewNotFound(k.Resource.GroupResource(), name)
	}
	if apierrors.IsNotFound(err) {
		return s.NotFound(ctx, k, ns, ws, name)
	}
	if err != nil {
		return s.Explain(err, fmt.Sprintf("reading %s %s %s", k.Singular(), name, Scope(k, ws, s.Zone.Name)))
	}
	events, _ := eventsRegarding(ctx, s, obj.GetNamespace(), func(ref corev1.ObjectReference) bool {
		return ref.Kind == k.Kind && ref.Name == obj.GetName()
	})
	if k.Container {
		pod := &corev1.Pod{}
		if err := fromUnstructured(obj, pod); err != nil {
			return err
		}
		return env.Render(func(out *bytes.Buffer) error { return RenderContainer(out, pod, s.Zone.Name, events, now) })
	}
	return env.Render(func(out *bytes.Buffer) error { return RenderObject(out, k, obj, s.Zone.Name, events, now) })
}

// WorkloadView is what describe shows of a workload.
type WorkloadView struct {
	Zone, Workspace string
	Workload        *doradev1.Workload
	Containers      []ContainerInfo
	Revisions       []Revision
	Events          []eventsv1.Event
	// Owner is the dora.dev/owner user; Credits their entry for this zone (nil: none, or
	// CreditsErr says why it could not be read).
	Owner      string
	Credits    *doradev1.ZoneCredits
	CreditsErr error
	// Notes say what could not be read.
	Notes []string
}

func workloadView(ctx context.Context, t *Target) (*WorkloadView, error) {
	s, wl := t.S, t.Workload
	v := &WorkloadView{Zone: s.Zone.Name, Workspace: t.Workspace, Workload: wl, Owner: wl.Annotations[doradev1.AnnotationOwner]}
	pods, err := s.Kube.CoreV1().Pods(wl.Namespace).List(ctx, metav1.ListOptions{LabelSelector: doradev1.LabelWorkload + "=" + naming.WorkloadLabelValue(wl.Name)})
	if err != nil {
		v.Notes = append(v.Notes, "the containers cannot be read: "+s.Explain(err, "listing containers").Error())
	}
	podNames := map[string]bool{}
	if pods != nil {
		for i := range pods.Items {
			if WorkloadOfPod(&pods.Items[i]) == wl.Name {
				v.Containers = append(v.Containers, Container(&pods.Items[i]))
				podNames[pods.Items[i].Name] = true
			}
		}
	}
	sort.Slice(v.Containers, func(i, j int) bool { return v.Containers[i].Replica < v.Containers[j].Replica })
	if v.Revisions, err = workloadRevisions(ctx, t); err != nil {
		v.Notes = append(v.Notes, "the revisions cannot be read: "+err.Error())
	}
	for _, c := range wl.Status.Containers {
		podNames[c.Name] = true
	}
	v.Events, err = eventsRegarding(ctx, s, wl.Namespace, func(ref corev1.ObjectReference) bool {
		return ref.Kind == "Workload" && ref.Name == wl.Name || ref.Kind == "Pod" && podNames[ref.Name]
	})
	if err != nil {
		v.Notes = append(v.Notes, "the events cannot be read: "+err.Error())
	}
	if v.Owner != "" {
		uc := &doradev1.UserCredit{}
		if err := s.Client.Get(ctx, client.ObjectKey{Name: v.Owner}, uc); err != nil {
			v.CreditsErr = s.Explain(err, "reading the credits of "+v.Owner)
		} else {
			v.Credits = ZoneCreditsOf(uc, s.Zone.Name)
		}
	}
	return v, nil
}

// eventsRegarding are the events of namespace about the objects match accepts, oldest
// first.
func eventsRegarding(ctx context.Context, s *Session, namespace string, match func(corev1.ObjectReference) bool) ([]eventsv1.Event, error) {
	list, err := s.Kube.EventsV1().Events(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, s.Explain(err, "listing events")
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if match(e.Regarding) {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return eventTime(out[i]).Before(eventTime(out[j])) })
	return out, nil
}

// eventTime is when an event last happened.
func eventTime(e eventsv1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.DeprecatedLastTimestamp.IsZero():
		return e.DeprecatedLastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// EventTable lists events: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE.
func EventTable(events []eventsv1.Event, now time.Time) *metav1.Table {
	t := SimpleTable("Last Seen", "Type", "Reason", "Object", "Message")
	for _, e := range events {
		count := ""
		if e.Series != nil && e.Series.Count > 1 {
			count = fmt.Sprintf(" (x%d)", e.Series.Count)
		} else if e.DeprecatedCount > 1 {
			count = fmt.Sprintf(" (x%d)", e.DeprecatedCount)
		}
		note := strings.TrimSpace(strings.ReplaceAll(e.Note, "\n", " "))
		AddRow(t, Age(eventTime(e), now)+count, e.Type, e.Reason, strings.ToLower(e.Regarding.Kind)+"/"+e.Regarding.Name, note)
	}
	return t
}

// RenderWorkload writes describe's view of a workload.
func RenderWorkload(out *bytes.Buffer, v *WorkloadView, now time.Time) error {
	wl := v.Workload
	fields := [][2]string{{"Name", doraName(wl)}}
	if wl.Name != doraName(wl) {
		fields = append(fields, [2]string{"Object name", wl.Name})
	}
	ready := orNone(wl.Status.Ready)
	fields = append(fields,
		[2]string{"Workspace", fmt.Sprintf("%s (namespace %s)", v.Workspace, wl.Namespace)},
		[2]string{"Zone", v.Zone},
		[2]string{"Owner", orNone(v.Owner)},
		[2]string{"Image", wl.Spec.Image.Image},
		[2]string{"Command", cmdSummary(&wl.Spec)},
		[2]string{"GPUs", gpuSummary(&wl.Spec) + " per replica"},
		[2]string{"Replicas", fmt.Sprintf("%d asked, %d exist, ready %s", wl.ReplicaCount(), wl.Status.Replicas, ready)},
		[2]string{"Phase", orNone(string(wl.Status.Phase))},
		[2]string{"Paused", fmt.Sprintf("%t", wl.Spec.Paused)},
		[2]string{"Revision", orNone(wl.Status.CurrentRevision)},
		[2]string{"Created", when(wl.CreationTimestamp.Time, now)},
	)
	writeFields(out, "", fields)

	fmt.Fprintln(out, "Conditions:")
	if len(wl.Status.Conditions) == 0 {
		fmt.Fprintln(out, "  (none yet)")
	} else {
		if err := PrintTable(indent(out, "  "), ConditionTable(wl.Status.Conditions, now), false, false); err != nil {
			return err
		}
	}

	fmt.Fprintln(out, "Replicas:")
	replicas := ReplicaTable(wl, v.Containers)
	if len(replicas.Rows) == 0 {
		fmt.Fprintln(out, "  (no containers)")
	} else if err := PrintTable(indent(out, "  "), replicas, false, false); err != nil {
		return err
	}

	fmt.Fprintln(out, "Revisions:")
	if len(v.Revisions) == 0 {
		fmt.Fprintln(out, "  (none kept yet)")
	} else if err := PrintTable(indent(out, "  "), HistoryTable(v.Revisions, now), true, false); err != nil {
		return err
	}

	switch {
	case v.Owner == "":
		fmt.Fprintln(out, "Credits:\n  the workload has no owner (made by an administrator or a service account): it is charged to nobody")
	case v.CreditsErr != nil:
		fmt.Fprintf(out, "Credits of %s:\n  cannot be read: %v\n", v.Owner, v.CreditsErr)
	default:
		fmt.Fprintf(out, "Credits of %s in %s:\n", v.Owner, v.Zone)
		held := meta(wl.Status.Conditions, doradev1.CreditsExhausted)
		fields := CreditFields("", v.Credits, now)
		if held != nil && held.Status == metav1.ConditionTrue {
			fields = append(fields, [2]string{"Held", held.Reason + ": " + held.Message})
		}
		writeFields(out, "  ", fields)
	}

	fmt.Fprintln(out, "Events:")
	if len(v.Events) == 0 {
		fmt.Fprintln(out, "  (none)")
	} else if err := PrintTable(indent(out, "  "), EventTable(v.Events, now), false, false); err != nil {
		return err
	}
	for _, n := range v.Notes {
		fmt.Fprintln(out, "Note:", n)
	}
	return nil
}

func meta(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// doraName is an object's name as Dora wrote it.
func doraName(obj metav1.Object) string {
	if n := obj.GetAnnotations()[doradev1.AnnotationDoraName]; n != "" {
		return n
	}
	return obj.GetName()
}

// ConditionTable lists conditions: TYPE, STATUS, REASON, SINCE, MESSAGE.
func ConditionTable(conds []metav1.Condition, now time.Time) *metav1.Table {
	t := SimpleTable("Type", "Status", "Reason", "Since", "Message")
	for _, c := range conds {
		AddRow(t, c.Type, string(c.Status), c.Reason, Age(c.LastTransitionTime.Time, now), c.Message)
	}
	return t
}

// ReplicaTable lists a workload's replicas: REPLICA, CONTAINER, NODE, GPUS, STATE, REASON,
// REVISION, from its pods, else from its status.
func ReplicaTable(wl *doradev1.Workload, containers []ContainerInfo) *metav1.Table {
	t := SimpleTable("Replica", "Container", "Node", "GPUs", "State", "Reason", "Revision")
	byReplica := map[int32]doradev1.ContainerStatus{}
	for _, c := range wl.Status.Containers {
		byReplica[c.Replica] = c
	}
	seen := map[int]bool{}
	for _, c := range containers {
		reason := c.Reason
		if st, ok := byReplica[int32(c.Replica)]; ok && reason == "" {
			reason = st.Reason
		}
		AddRow(t, c.Replica, c.Name, orNone(c.Node), c.GPUs, c.State, orNone(reason), orNone(c.Revision))
		seen[c.Replica] = true
	}
	for _, st := range wl.Status.Containers {
		if seen[int(st.Replica)] {
			continue
		}
		AddRow(t, st.Replica, orNone(st.Name), orNone(st.Node), "", orNone(string(st.State)), orNone(st.Reason), orNone(st.Revision))
	}
	return t
}

// RenderContainer writes describe's view of a workload's pod.
func RenderContainer(out *bytes.Buffer, pod *corev1.Pod, zone string, events []eventsv1.Event, now time.Time) error {
	c := Container(pod)
	writeFields(out, "", [][2]string{
		{"Name", c.Name}, {"Workload", c.Workload}, {"Replica", fmt.Sprint(c.Replica)},
		{"Namespace", c.Namespace}, {"Zone", zone}, {"Node", orNone(c.Node)}, {"GPUs", fmt.Sprint(c.GPUs)},
		{"State", c.State}, {"Reason", orNone(c.Reason)}, {"Revision", orNone(c.Revision)},
		{"Image", c.Image}, {"IP", orNone(c.IP)}, {"Created", when(c.Created, now)},
	})
	fmt.Fprintln(out, "Conditions:")
	t := SimpleTable("Type", "Status", "Reason", "Message")
	for _, cond := range pod.Status.Conditions {
		AddRow(t, string(cond.Type), string(cond.Status), cond.Reason, cond.Message)
	}
	if err := PrintTable(indent(out, "  "), t, false, false); err != nil {
		return err
	}
	return renderEvents(out, events, now)
}

func renderEvents(out *bytes.Buffer, events []eventsv1.Event, now time.Time) error {
	fmt.Fprintln(out, "Events:")
	if len(events) == 0 {
		fmt.Fprintln(out, "  (none)")
		return nil
	}
	return PrintTable(indent(out, "  "), EventTable(events, now), false, false)
}

// RenderObject writes describe's view of any Dora object: its names, zone and workspace,
// labels and annotations, spec, conditions, the rest of its status, and its events.
func RenderObject(out *bytes.Buffer, k Kind, obj *unstructured.Unstructured, zone string, events []eventsv1.Event, now time.Time) error {
	fields := [][2]string{{"Name", doraName(obj)}, {"Kind", k.Dora}}
	if obj.GetName() != doraName(obj) {
		fields = append(fields, [2]string{"Object name", obj.GetName()})
	}
	if k.Namespaced {
		ws := obj.GetAnnotations()[doradoc.AnnotationWorkspace]
		fields = append(fields, [2]string{"Workspace", fmt.Sprintf("%s (namespace %s)", orDefault(ws, obj.GetNamespace()), obj.GetNamespace())})
	}
	fields = append(fields, [2]string{"Zone", zone}, [2]string{"Created", when(obj.GetCreationTimestamp().Time, now)})
	writeFields(out, "", fields)
	for _, m := range []struct {
		title  string
		values map[string]string
	}{{"Labels", obj.GetLabels()}, {"Annotations", obj.GetAnnotations()}} {
		if len(m.values) == 0 {
			continue
		}
		fmt.Fprintln(out, m.title+":")
		keys := make([]string, 0, len(m.values))
		for key := range m.values {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			fmt.Fprintf(out, "  %s=%s\n", key, m.values[key])
		}
	}
	if spec, ok := obj.Object["spec"]; ok {
		if err := writeYAMLSection(out, "Spec", spec); err != nil {
			return err
		}
	}
	status, _ := obj.Object["status"].(map[string]any)
	if raw, ok := status["conditions"]; ok {
		var conds []metav1.Condition
		if err := runtimeConvert(raw, &conds); err == nil {
			fmt.Fprintln(out, "Conditions:")
			if err := PrintTable(indent(out, "  "), ConditionTable(conds, now), false, false); err != nil {
				return err
			}
		}
		rest := map[string]any{}
		for key, value := range status {
			if key != "conditions" {
				rest[key] = value
			}
		}
		status = rest
	}
	if len(status) > 0 {
		if err := writeYAMLSection(out, "Status", status); err != nil {
			return err
		}
	}
	return renderEvents(out, events, now)
}

func writeYAMLSection(out *bytes.Buffer, title string, value any) error {
	data, err := yaml.Marshal(value)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, title+":")
	_, err = indent(out, "  ").Write(data)
	return err
}

// runtimeConvert converts decoded JSON (maps and lists) into a typed value.
func runtimeConvert(in any, out any) error {
	data, err := yaml.Marshal(in)
	if err != nil {
		return err
	}
	return yaml.Unmarshal(data, out)
}

// fromUnstructured converts an unstructured object into a typed one.
func fromUnstructured(u *unstructured.Unstructured, out any) error {
	data, err := u.MarshalJSON()
	if err != nil {
		return err
	}
	return yaml.Unmarshal(data, out)
}
