package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func init() { Register("get", newGetCommand) }

// GetView is a kind-like view that get shows by its own means, such as get gpus: the
// commands that add one register it with RegisterGetView.
type GetView struct {
	// Names are what the user types: gpu, gpus.
	Names []string
	// Run shows the view; opts are get's flags.
	Run func(ctx context.Context, env *Env, opts *GetOptions, args []string) error
}

var getViews []GetView

// RegisterGetView adds a view to get (call it from an init function).
func RegisterGetView(v GetView) { getViews = append(getViews, v) }

func lookupView(name string) (GetView, bool) {
	for _, v := range getViews {
		for _, n := range v.Names {
			if strings.EqualFold(n, name) {
				return v, true
			}
		}
	}
	return GetView{}, false
}

func viewNames() []string {
	var names []string
	for _, v := range getViews {
		names = append(names, v.Names...)
	}
	return names
}

// GetOptions are get's flags.
type GetOptions struct {
	Out           *OutputFlags
	AllNamespaces bool
	AllZones      bool
	Watch         bool
	Selector      string
}

func newGetCommand(env *Env) *cobra.Command {
	o := &GetOptions{Out: NewOutputFlags(true)}
	cmd := &cobra.Command{
		Use:     "get KIND[,KIND...] [NAME...]",
		GroupID: GroupBasic,
		Short:   "List objects by Dora's kind names, in one zone or all",
		Long: `List objects of Dora's kinds: workload(s)/wk, container(s)/c (the pods of workloads),
node(s), workspace(s)/ws, volume(s)/vol, storage(s), resourcecredit(s)/rc,
usercredit(s)/uc, zone(s)/z, user(s), role(s).

The columns are the CRDs' printer columns (-o wide adds the rest). -A lists every
workspace, --all-zones every configured zone (with a ZONE column), -w keeps watching.
-o dora writes the objects back as Dora's own documents.`,
		Example: `  kubectl dora get wk
  kubectl dora get c -g amedeo.setti -o wide
  kubectl dora get wk --all-zones -A
  kubectl dora get wk blue.red -o dora`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeKindThenNames(env),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGet(cmd.Context(), env, o, args)
		},
	}
	o.Out.AddFlags(cmd, true)
	cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "List the objects of every workspace.")
	cmd.Flags().BoolVar(&o.AllZones, "all-zones", false, "List the objects of every configured zone, with a ZONE column.")
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", false, "After listing, watch for changes.")
	cmd.Flags().StringVarP(&o.Selector, "selector", "l", "", "A label selector, such as app=train.")
	return cmd
}

func runGet(ctx context.Context, env *Env, o *GetOptions, args []string) error {
	if v, ok := lookupView(args[0]); ok {
		return v.Run(ctx, env, o, args[1:])
	}
	if err := o.Out.Validate(true); err != nil {
		return err
	}
	var kinds []Kind
	for _, name := range strings.Split(args[0], ",") {
		k, ok := LookupKind(name)
		if !ok {
			return &UnknownKindError{Name: name, Extra: viewNames()}
		}
		kinds = append(kinds, k)
	}
	names := args[1:]
	if len(kinds) > 1 && len(names) > 0 {
		return errors.New("names can be given with one kind only, such as get wk blue.red")
	}
	if o.Out.Dora() {
		for _, k := range kinds {
			if k.Container {
				return errors.New("-o dora: containers are no Dora documents (they are made from workloads); use -o yaml")
			}
		}
	}
	sessions, err := env.Sessions(ctx, o.AllZones)
	if err != nil {
		return err
	}
	var errs []error
	for i, k := range kinds {
		if i > 0 && o.Out.Table() {
			env.Outln()
		}
		if err := getKind(ctx, env, o, sessions, k, names); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// zoneScope is one zone's part of a get: the session and the namespace it reads.
type zoneScope struct {
	s                    *Session
	namespace, workspace string
}

func scopes(ctx context.Context, sessions []*Session, k Kind, allNamespaces bool) ([]zoneScope, error) {
	out := make([]zoneScope, 0, len(sessions))
	for _, s := range sessions {
		sc := zoneScope{s: s}
		if k.Namespaced && !allNamespaces {
			ws, ns, err := s.Workspace(ctx)
			if err != nil {
				return nil, err
			}
			sc.namespace, sc.workspace = ns, ws
		}
		out = append(out, sc)
	}
	return out, nil
}

func (z zoneScope) where(k Kind) string {
	if k.Namespaced && z.workspace == "" {
		return "in any workspace of zone " + z.s.Zone.Name
	}
	return Scope(k, z.workspace, z.s.Zone.Name)
}

func getKind(ctx context.Context, env *Env, o *GetOptions, sessions []*Session, k Kind, names []string) error {
	zones, err := scopes(ctx, sessions, k, o.AllNamespaces)
	if err != nil {
		return err
	}
	multiZone := len(zones) > 1 || o.AllZones
	var errs []error
	found := map[string]bool{}
	var tables []*metav1.Table
	var objects []runtime.Object
	resourceVersions := map[string]string{}
	for _, z := range zones {
		if o.Out.Table() {
			t, rv, err := zoneTable(ctx, z, k, names, o.Selector, found)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			resourceVersions[z.s.Zone.Name] = rv
			zone := ""
			if multiZone {
				zone = z.s.Zone.Name
			}
			decorate(t, zone, o.AllNamespaces && k.Namespaced)
			tables = append(tables, t)
			continue
		}
		objs, rv, err := zoneObjects(ctx, z, k, names, o.Selector, found)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		resourceVersions[z.s.Zone.Name] = rv
		if o.Out.Dora() {
			for _, obj := range objs {
				markZone(obj, k, z.s.Zone.Name)
			}
		}
		objects = append(objects, objs...)
	}
	for _, name := range names {
		if found[name] {
			continue
		}
		for _, z := range zones {
			errs = append(errs, z.s.NotFound(ctx, k, z.namespace, z.workspace, name))
			if len(zones) > 1 {
				break // one message, from the first zone
			}
		}
	}
	if o.Out.Table() {
		merged := mergeTables(tables)
		switch {
		case len(merged.Rows) > 0:
			if err := PrintTable(env.IO.Out, merged, o.Out.Wide(), o.Out.NoHeaders); err != nil {
				return err
			}
		case len(names) == 0 && len(errs) == 0:
			env.Errf("No %s found %s.\n", k.Plural(), zonesWhere(zones, k))
		}
	} else if len(objects) > 0 || len(names) == 0 {
		if err := o.Out.PrintObjects(env.IO.Out, objects); err != nil {
			return err
		}
	}
	if len(errs) > 0 || !o.Watch {
		return errors.Join(errs...)
	}
	return watchKind(ctx, env, o, zones, k, names, resourceVersions, multiZone)
}

func zonesWhere(zones []zoneScope, k Kind) string {
	if len(zones) == 1 {
		return zones[0].where(k)
	}
	parts := make([]string, 0, len(zones))
	for _, z := range zones {
		parts = append(parts, z.s.Zone.Name)
	}
	return "in zones " + strings.Join(parts, ", ")
}

// markZone gives an object read from a zone its zone for export as a Dora document, when
// its kind is zoned and it does not say one.
func markZone(obj runtime.Object, k Kind, zone string) {
	m, ok := obj.(metav1.Object)
	if !ok || !k.Zoned {
		return
	}
	ann := m.GetAnnotations()
	if ann[doradev1.AnnotationZone] != "" {
		return
	}
	if ann == nil {
		ann = map[string]string{}
	}
	ann[doradev1.AnnotationZone] = zone
	m.SetAnnotations(ann)
}

// containerSelector selects workload pods, and within them what the user asked.
func containerSelector(user string) string {
	if user == "" {
		return doradev1.LabelWorkload
	}
	return doradev1.LabelWorkload + "," + user
}

// zoneTable is one zone's table of k: the objects named (found records which were), or
// all; and the resource version to watch from.
func zoneTable(ctx context.Context, z zoneScope, k Kind, names []string, selector string, found map[string]bool) (*metav1.Table, string, error) {
	s := z.s
	if k.Container {
		pods, rv, err := zonePods(ctx, z, names, selector, found)
		if err != nil {
			return nil, "", err
		}
		return ContainerTable(pods, time.Now()), rv, nil
	}
	if len(names) == 0 {
		t, err := s.FetchTable(ctx, tableQuery{Kind: k, Namespace: z.namespace, Selector: selector})
		if err != nil {
			return nil, "", s.Explain(err, fmt.Sprintf("listing %s %s", k.Plural(), z.where(k)))
		}
		return t, t.ResourceVersion, nil
	}
	var tables []*metav1.Table
	rv := ""
	for _, name := range names {
		t, err := s.FetchTable(ctx, tableQuery{Kind: k, Namespace: z.namespace, Name: ObjectName(name)})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, "", s.Explain(err, fmt.Sprintf("reading %s %s %s", k.Singular(), name, z.where(k)))
		}
		found[name] = true
		tables = append(tables, t)
		if len(t.Rows) > 0 {
			rv = rowMeta(t.Rows[0]).GetResourceVersion()
		}
	}
	return mergeTables(tables), rv, nil
}

// zonePods are the workload pods of one zone: the named ones, or all that match.
func zonePods(ctx context.Context, z zoneScope, names []string, selector string, found map[string]bool) ([]corev1.Pod, string, error) {
	s := z.s
	if len(names) == 0 {
		list, err := s.Kube.CoreV1().Pods(z.namespace).List(ctx, metav1.ListOptions{LabelSelector: containerSelector(selector)})
		if err != nil {
			return nil, "", s.Explain(err, "listing containers "+z.where(KindContainer()))
		}
		return list.Items, list.ResourceVersion, nil
	}
	var pods []corev1.Pod
	rv := ""
	for _, name := range names {
		pod, err := s.Kube.CoreV1().Pods(z.namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || err == nil && pod.Labels[doradev1.LabelWorkload] == "" {
			continue
		}
		if err != nil {
			return nil, "", s.Explain(err, fmt.Sprintf("reading container %s %s", name, z.where(KindContainer())))
		}
		found[name] = true
		pods = append(pods, *pod)
		rv = pod.ResourceVersion
	}
	return pods, rv, nil
}

// zoneObjects are one zone's objects of k, whole, for structured output.
func zoneObjects(ctx context.Context, z zoneScope, k Kind, names []string, selector string, found map[string]bool) ([]runtime.Object, string, error) {
	s := z.s
	client := s.Dynamic.Resource(k.Resource).Namespace(z.namespace)
	if len(names) == 0 {
		if k.Container {
			selector = containerSelector(selector)
		}
		list, err := client.List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return nil, "", s.Explain(err, fmt.Sprintf("listing %s %s", k.Plural(), z.where(k)))
		}
		objs := make([]runtime.Object, 0, len(list.Items))
		for i := range list.Items {
			objs = append(objs, &list.Items[i])
		}
		return objs, list.GetResourceVersion(), nil
	}
	var objs []runtime.Object
	rv := ""
	for _, name := range names {
		obj, err := client.Get(ctx, ObjectName(name), metav1.GetOptions{})
		if apierrors.IsNotFound(err) || err == nil && k.Container && obj.GetLabels()[doradev1.LabelWorkload] == "" {
			continue
		}
		if err != nil {
			return nil, "", s.Explain(err, fmt.Sprintf("reading %s %s %s", k.Singular(), name, z.where(k)))
		}
		found[name] = true
		objs = append(objs, obj)
		rv = obj.GetResourceVersion()
	}
	return objs, rv, nil
}

// KindContainer is Dora's Container kind.
func KindContainer() Kind {
	k, _ := LookupKind("container")
	return k
}

// watchKind prints the changes of every zone until the command is interrupted.
func watchKind(ctx context.Context, env *Env, o *GetOptions, zones []zoneScope, k Kind, names []string, rvs map[string]string, multiZone bool) error {
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(zones))
	for i, z := range zones {
		wg.Add(1)
		go func() {
			defer wg.Done()
			zone := ""
			if multiZone {
				zone = z.s.Zone.Name
			}
			print := func(t *metav1.Table) error {
				mu.Lock()
				defer mu.Unlock()
				decorate(t, zone, o.AllNamespaces && k.Namespaced)
				return PrintTable(env.IO.Out, t, o.Out.Wide(), true)
			}
			printObj := func(obj runtime.Object) error {
				mu.Lock()
				defer mu.Unlock()
				return o.Out.PrintObjects(env.IO.Out, []runtime.Object{obj})
			}
			errs[i] = watchZone(ctx, z, k, names, o, rvs[z.s.Zone.Name], print, printObj)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func watchZone(ctx context.Context, z zoneScope, k Kind, names []string, o *GetOptions, rv string, print func(*metav1.Table) error, printObj func(runtime.Object) error) error {
	s := z.s
	name := ""
	if len(names) == 1 {
		name = ObjectName(names[0])
	} else if len(names) > 1 {
		return errors.New("-w watches one name, or all")
	}
	selector := o.Selector
	if k.Container {
		selector = containerSelector(selector)
	}
	if o.Out.Table() && !k.Container {
		err := s.WatchTable(ctx, tableQuery{Kind: k, Namespace: z.namespace, Name: name, Selector: selector}, rv, func(_ string, t *metav1.Table) error {
			return print(t)
		})
		return s.Explain(err, fmt.Sprintf("watching %s %s", k.Plural(), z.where(k)))
	}
	opts := metav1.ListOptions{LabelSelector: selector, ResourceVersion: rv}
	if name != "" {
		opts.FieldSelector = "metadata.name=" + name
	}
	w, err := s.Dynamic.Resource(k.Resource).Namespace(z.namespace).Watch(ctx, opts)
	if err != nil {
		return s.Explain(err, fmt.Sprintf("watching %s %s", k.Plural(), z.where(k)))
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return nil
			}
			if ev.Type == watch.Error {
				return fmt.Errorf("watching %s %s: %w", k.Plural(), z.where(k), apierrors.FromObject(ev.Object))
			}
			if ev.Type == watch.Bookmark {
				continue
			}
			u, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			if o.Out.Table() {
				pod := &corev1.Pod{}
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, pod); err != nil {
					return err
				}
				if err := print(ContainerTable([]corev1.Pod{*pod}, time.Now())); err != nil {
					return err
				}
				continue
			}
			if o.Out.Dora() {
				markZone(u, k, s.Zone.Name)
			}
			if err := printObj(u); err != nil {
				return err
			}
		}
	}
}
