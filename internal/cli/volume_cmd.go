package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/cli/transfer"
	"github.com/dora-hpc/dora-operator/internal/cli/why"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

func init() { Register("volume", newVolumeCommand) }

// volumeOptions are the flags of the volume commands.
type volumeOptions struct {
	// Image is the helper's image; MountPath where it mounts the volume.
	Image, MountPath string
	// Timeout bounds the wait for the helper's container to run.
	Timeout time.Duration
	// Progress draws progress bars on stderr even when it is no terminal.
	Progress bool
	// Output is -o: "" (text) or json.
	Output string

	// Name renames what upload or download writes.
	Name string
	// ls: sizes as 1.5K, and no header line.
	Human, NoHeaders bool
	// sync
	Delete, Checksum, DryRun, NoIgnoreFiles bool
	Exclude                                 []string
}

// The volume commands' Dora verbs (Role.spec.permission) and the RBAC verbs on
// volumes.dora.dev they are checked as.
var volumeVerbs = map[string]string{
	doradev1.VerbLs:       doradev1.DoraVerbLs,
	doradev1.VerbUpload:   doradev1.DoraVerbUpload,
	doradev1.VerbDownload: doradev1.DoraVerbDownload,
	doradev1.VerbSync:     doradev1.DoraVerbSync,
}

func newVolumeCommand(env *Env) *cobra.Command {
	o := &volumeOptions{}
	cmd := &cobra.Command{
		Use:     "volume ls|upload|download|sync VOLUME ...",
		Aliases: []string{"vol"},
		GroupID: GroupData,
		Short:   "List, upload, download and sync the files of a volume",
		Long: `Move data in and out of a Dora Volume, as Dora's ls, upload, download and sync did.

Each command first checks that you have its Dora verb on the volume (Ls, Upload, Download
or Sync; a SelfSubjectAccessReview), then runs a short-lived helper workload in your
workspace that mounts the volume (read-only for ls and download) and moves the data with
tar over exec, as kubectl cp does. The helper is deleted when the command ends, also on
Ctrl-C; its maxRunTime stops it should the plugin be killed. The helper needs the Dora
verbs Apply and Delete on Workload and Shell on Container in your workspace.

VOLUME is a volume of the workspace (-g), or WORKSPACE/VOLUME for one of another
workspace (a shared dataset: that takes the Dora verb Use on it too). Paths in the volume
are relative to its top: / is the volume itself.

Transfers are safe to interrupt and run again: nothing half-written is ever in place.
Progress bars go to stderr when it is a terminal, or with --progress.`,
		Example: `  kubectl dora volume ls home
  kubectl dora volume upload home ./dataset /inputs
  kubectl dora volume download home /results ./out
  kubectl dora volume sync home ./project /project --delete
  kubectl dora volume ls datasets/imagenetpytorch /train`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			msg := fmt.Sprintf("unknown volume command %q: use ls, upload, download or sync", args[0])
			if near := Nearest(args[0], []string{"ls", "upload", "download", "sync"}); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
			}
			return errors.New(msg)
		},
	}
	f := cmd.PersistentFlags()
	f.StringVar(&o.Image, "image", transfer.DefaultImage, "The helper's image: it needs sh, tar, find, stat, mv, rm, xargs, dd and sha256sum, and no entrypoint.")
	f.StringVar(&o.MountPath, "mount-path", transfer.DefaultMountPath, "Where the helper mounts the volume (an absolute path in its image).")
	f.DurationVar(&o.Timeout, "timeout", 2*time.Minute, "How long to wait for the helper's container to run.")
	f.BoolVar(&o.Progress, "progress", false, "Show progress bars on stderr even when it is not a terminal.")
	f.StringVarP(&o.Output, "output", "o", "", "json for what was listed or moved, as data.")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"json"}, cobra.ShellCompDirectiveNoFileComp))

	cmd.AddCommand(newVolumeLs(env, o), newVolumeUpload(env, o), newVolumeDownload(env, o), newVolumeSync(env, o))
	return cmd
}

func newVolumeLs(env *Env, o *volumeOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:               "ls VOLUME [PATH]",
		Short:             "List a directory of a volume (its top by default)",
		Args:              cobra.RangeArgs(1, 2),
		ValidArgsFunction: completeVolumeArgs(env),
		RunE: func(cmd *cobra.Command, args []string) error {
			p := "/"
			if len(args) == 2 {
				p = args[1]
			}
			return runVolume(cmd.Context(), env, o, doradev1.VerbLs, args[0], func(ctx context.Context, x *volumeRun) error {
				entries, err := transfer.List(ctx, x.Exec, o.MountPath, p)
				if err != nil {
					dir, _ := transfer.RemotePath(o.MountPath, p)
					return x.Missing(err, dir)
				}
				if o.Output == "json" {
					return writeStructured(env.IO.Out, "json", entries)
				}
				return env.Render(func(out *bytes.Buffer) error {
					return transfer.WriteTable(out, entries, transfer.TableOptions{NoHeaders: o.NoHeaders, HumanSizes: o.Human, Location: CallerLocation(env.Getenv)})
				})
			})
		},
	}
	cmd.Flags().BoolVar(&o.Human, "human", false, "Sizes as 1.5K, 20M, 3.1G.")
	cmd.Flags().BoolVar(&o.NoHeaders, "no-headers", false, "Leave out the header line.")
	return cmd
}

func newVolumeUpload(env *Env, o *volumeOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "upload VOLUME LOCAL_PATH [REMOTE_DIR]",
		Short: "Upload a file or directory into a directory of a volume (its top by default)",
		Long: `Upload a local file or directory into REMOTE_DIR of the volume (made when missing; / by
default): the result is REMOTE_DIR/<name>, as cp -r does. A directory is merged into one
already there. Nothing appears before the whole stream has arrived.`,
		Args:              cobra.RangeArgs(2, 3),
		ValidArgsFunction: completeVolumeArgs(env, cobra.ShellCompDirectiveDefault),
		RunE: func(cmd *cobra.Command, args []string) error {
			remote := "/"
			if len(args) == 3 {
				remote = args[2]
			}
			return runVolume(cmd.Context(), env, o, doradev1.VerbUpload, args[0], func(ctx context.Context, x *volumeRun) error {
				dir, err := transfer.RemotePath(o.MountPath, remote)
				if err != nil {
					return err
				}
				stats, err := transfer.Upload(ctx, x.Exec, args[1], dir, x.Options(o))
				if err != nil {
					return err
				}
				name := o.Name
				if name == "" {
					name = filepath.Base(filepath.Clean(args[1]))
				}
				return x.Report(stats, fmt.Sprintf("uploaded %s to %s", args[1], x.Where(path.Join(dir, name))))
			})
		},
	}
	cmd.Flags().StringVar(&o.Name, "name", "", "The name in the volume (default: LOCAL_PATH's own).")
	return cmd
}

func newVolumeDownload(env *Env, o *volumeOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "download VOLUME REMOTE_PATH [LOCAL_DIR]",
		Short: "Download a file or directory of a volume into a local directory (. by default)",
		Long: `Download a file or directory of the volume into LOCAL_DIR (made when missing; the
current directory by default): the result is LOCAL_DIR/<name>. Each file is written
whole or not at all; entries that would land outside it are refused.`,
		Args:              cobra.RangeArgs(2, 3),
		ValidArgsFunction: completeVolumeArgs(env, cobra.ShellCompDirectiveNoFileComp, cobra.ShellCompDirectiveFilterDirs),
		RunE: func(cmd *cobra.Command, args []string) error {
			local := "."
			if len(args) == 3 {
				local = args[2]
			}
			return runVolume(cmd.Context(), env, o, doradev1.VerbDownload, args[0], func(ctx context.Context, x *volumeRun) error {
				src, err := transfer.RemotePath(o.MountPath, args[1])
				if err != nil {
					return err
				}
				stats, err := transfer.Download(ctx, x.Exec, src, local, x.Options(o))
				if err != nil {
					return x.Missing(err, src)
				}
				name := o.Name
				if name == "" {
					name = path.Base(src)
				}
				return x.Report(stats, fmt.Sprintf("downloaded %s to %s", x.Where(src), filepath.Join(local, name)))
			})
		},
	}
	cmd.Flags().StringVar(&o.Name, "name", "", "The local name (default: REMOTE_PATH's own).")
	return cmd
}

func newVolumeSync(env *Env, o *volumeOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sync VOLUME LOCAL_DIR [REMOTE_DIR]",
		Short: "Make a directory of a volume hold what a local directory holds, sending only changes",
		Long: `Make REMOTE_DIR of the volume (by default /<the local directory's name>, where upload
puts it) hold what LOCAL_DIR holds, as rsync -rlt LOCAL_DIR/ REMOTE_DIR/ does: only new
and changed files are sent (size and modification time; --checksum compares the contents
of files whose times differ). Paths that .gitignore and .dockerignore leave out are not
sent (--no-ignore-files sends them); --delete removes remote files gone locally, never the
ignored ones. --dry-run says what would be sent and deleted.`,
		Args:              cobra.RangeArgs(2, 3),
		ValidArgsFunction: completeVolumeArgs(env, cobra.ShellCompDirectiveFilterDirs),
		RunE: func(cmd *cobra.Command, args []string) error {
			local := args[1]
			remote := "/" + filepath.Base(absOrSelf(local))
			if len(args) == 3 {
				remote = args[2]
			}
			return runVolume(cmd.Context(), env, o, doradev1.VerbSync, args[0], func(ctx context.Context, x *volumeRun) error {
				dir, err := transfer.RemotePath(o.MountPath, remote)
				if err != nil {
					return err
				}
				stats, err := transfer.Sync(ctx, x.Exec, local, dir, x.Options(o))
				if err != nil {
					return err
				}
				verb := "synced"
				if o.DryRun {
					verb = "would sync (dry run)"
				}
				return x.Report(stats, fmt.Sprintf("%s %s to %s", verb, local, x.Where(dir)))
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.Delete, "delete", false, "Remove remote files and directories that are gone locally.")
	f.BoolVar(&o.Checksum, "checksum", false, "Compare the SHA-256 of files of the same size whose times differ, instead of sending them.")
	f.BoolVar(&o.DryRun, "dry-run", false, "Say what would be sent and deleted; change nothing.")
	f.BoolVar(&o.NoIgnoreFiles, "no-ignore-files", false, "Send everything: do not read .gitignore and .dockerignore.")
	f.StringArrayVar(&o.Exclude, "exclude", nil, "A gitignore-style pattern of paths not to send (repeatable).")
	return cmd
}

func absOrSelf(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// completeVolumeArgs completes VOLUME, then each further argument as rest says (the
// shell's files, directories, or nothing).
func completeVolumeArgs(env *Env, rest ...cobra.ShellCompDirective) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			if len(args)-1 < len(rest) {
				return nil, rest[len(args)-1]
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := completionContext(cmd)
		defer cancel()
		k, _ := LookupKind("volume")
		return filterPrefix(namesOf(ctx, env, k), toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// VolumeRef is the volume a volume command acts on, and where the helper runs.
type VolumeRef struct {
	// Volume is its Dora name; VolumeWorkspace the workspace that owns it.
	Volume, VolumeWorkspace string
	// Workspace and Namespace are where the helper runs: the caller's workspace.
	Workspace, Namespace string
}

// VolumeNamespace is the namespace of the volume's workspace.
func (r VolumeRef) VolumeNamespace() string {
	if r.VolumeWorkspace == r.Workspace {
		return r.Namespace
	}
	return WorkspaceNamespace(r.VolumeWorkspace)
}

// Shared reports whether the volume is another workspace's.
func (r VolumeRef) Shared() bool { return r.VolumeWorkspace != r.Workspace }

// ParseVolumeRef reads VOLUME or WORKSPACE/VOLUME, the helper running in workspace (of
// namespace).
func ParseVolumeRef(arg, workspace, namespace string) (VolumeRef, error) {
	r := VolumeRef{Volume: arg, VolumeWorkspace: workspace, Workspace: workspace, Namespace: namespace}
	if ws, vol, ok := strings.Cut(arg, "/"); ok {
		if ws == "" || vol == "" || strings.Contains(vol, "/") {
			return r, fmt.Errorf("volume %q: give VOLUME, or WORKSPACE/VOLUME for a volume of another workspace", arg)
		}
		r.Volume, r.VolumeWorkspace = vol, ws
	}
	if r.Volume == "" {
		return r, errors.New("no volume given")
	}
	return r, nil
}

// AccessNeed is one permission a volume command needs, as its Dora verb and the
// SelfSubjectAccessReview that checks it.
type AccessNeed struct {
	DoraVerb, DoraKind string
	Attributes         authorizationv1.ResourceAttributes
}

// VolumeAccessNeeds are the permissions a volume command (verb: ls, upload, download, sync)
// needs: its Dora verb on the volume; Use on it when it is another workspace's; and, for the
// helper in the caller's workspace, Apply and Delete on Workload and Shell on Container.
func VolumeAccessNeeds(verb string, r VolumeRef) []AccessNeed {
	vol := func(v string) authorizationv1.ResourceAttributes {
		return authorizationv1.ResourceAttributes{Namespace: r.VolumeNamespace(), Verb: v, Group: doradev1.GroupVersion.Group, Resource: "volumes", Name: ObjectName(r.Volume)}
	}
	needs := []AccessNeed{{DoraVerb: volumeVerbs[verb], DoraKind: doradev1.DoraKindVolume, Attributes: vol(verb)}}
	if r.Shared() {
		needs = append(needs, AccessNeed{DoraVerb: doradev1.DoraVerbUse, DoraKind: doradev1.DoraKindVolume, Attributes: vol(doradev1.VerbUse)})
	}
	workloads := func(v string) authorizationv1.ResourceAttributes {
		return authorizationv1.ResourceAttributes{Namespace: r.Namespace, Verb: v, Group: doradev1.GroupVersion.Group, Resource: "workloads"}
	}
	return append(needs,
		AccessNeed{DoraVerb: doradev1.DoraVerbApply, DoraKind: doradev1.DoraKindWorkload, Attributes: workloads("create")},
		AccessNeed{DoraVerb: doradev1.DoraVerbDelete, DoraKind: doradev1.DoraKindWorkload, Attributes: workloads("delete")},
		AccessNeed{DoraVerb: doradev1.DoraVerbShell, DoraKind: doradev1.DoraKindContainer,
			Attributes: authorizationv1.ResourceAttributes{Namespace: r.Namespace, Verb: "create", Resource: "pods", Subresource: "exec"}},
	)
}

// RefusalError is a volume command refused before anything was started: the Dora verbs the
// caller lacks.
type RefusalError struct {
	// Command is ls, upload, download or sync; User who was refused; Zone where.
	Command, User, Zone string
	Ref                 VolumeRef
	// Missing are the needs the access reviews denied, in VolumeAccessNeeds' order.
	Missing []AccessNeed
}

func (e *RefusalError) Error() string {
	var onVolume, forHelper []string
	for _, m := range e.Missing {
		if m.DoraKind == doradev1.DoraKindVolume {
			onVolume = append(onVolume, m.DoraVerb)
		} else {
			forHelper = append(forHelper, m.DoraVerb+" on "+m.DoraKind)
		}
	}
	vol := "volume " + e.Ref.Volume + " of workspace " + e.Ref.VolumeWorkspace
	var parts []string
	if len(onVolume) > 0 {
		parts = append(parts, fmt.Sprintf("%s may not %s %s (zone %s): that takes the Dora verb %s on the volume, which none of %s's roles grants",
			e.User, e.Command, vol, e.Zone, strings.Join(onVolume, " and "), e.User))
	}
	if len(forHelper) > 0 {
		parts = append(parts, fmt.Sprintf("%s may not run the helper workload that moves the data, in workspace %s (zone %s): that takes the Dora verbs %s, which %s lacks there",
			e.User, e.Ref.Workspace, e.Zone, strings.Join(forHelper, ", "), e.User))
	}
	return "refused: " + strings.Join(parts, "; and ") + " (checked with SelfSubjectAccessReviews; nothing was started)"
}

// checkVolumeAccess asks the zone, for each need, whether the caller has it.
func checkVolumeAccess(ctx context.Context, s *Session, command string, r VolumeRef) error {
	refusal := &RefusalError{Command: command, User: s.Who(), Zone: s.Zone.Name, Ref: r}
	if who, err := s.Identity(ctx); err == nil {
		refusal.User = who.Username
	}
	for _, need := range VolumeAccessNeeds(command, r) {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: new(need.Attributes)}}
		got, err := s.Kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			return s.Explain(err, fmt.Sprintf("checking whether you may %s volume %s (the Dora verb %s on %s)", command, r.Volume, need.DoraVerb, need.DoraKind))
		}
		if !got.Status.Allowed {
			refusal.Missing = append(refusal.Missing, need)
		}
	}
	if len(refusal.Missing) > 0 {
		return refusal
	}
	return nil
}

// volumeRun is a running helper: how to run commands in it, and how to report.
type volumeRun struct {
	env  *Env
	s    *Session
	ref  VolumeRef
	o    *volumeOptions
	pod  *corev1.Pod
	root string
	// Exec runs a command in the helper's container.
	Exec transfer.Exec
}

// Options are the transfer's options: progress on stderr when it is a terminal or
// --progress, warnings on stderr, and the command's own flags.
func (x *volumeRun) Options(o *volumeOptions) transfer.Options {
	opts := transfer.Options{
		Warnings: x.env.IO.ErrOut, Name: o.Name,
		Delete: o.Delete, Checksum: o.Checksum, DryRun: o.DryRun, NoIgnoreFiles: o.NoIgnoreFiles, Exclude: o.Exclude,
	}
	if x.progress() {
		opts.Progress = x.env.IO.ErrOut
	}
	return opts
}

func (x *volumeRun) progress() bool { return x.o.Progress || isTerminal(x.env.IO.ErrOut) }

// Where names a path of the helper as the user sees it: "volume home:/results".
func (x *volumeRun) Where(remote string) string {
	return fmt.Sprintf("volume %s:%s", x.ref.Volume, VolumePath(x.root, remote))
}

// Missing says that the volume has no remote (a path of the helper's container) as a path of
// the volume, where err is that (fs.ErrNotExist); other errors are returned as they are.
func (x *volumeRun) Missing(err error, remote string) error {
	if !errors.Is(err, fs.ErrNotExist) || remote == "" {
		return err
	}
	return &MissingPathError{Volume: x.ref.Volume, Path: VolumePath(x.root, remote), Where: fmt.Sprintf("workspace %s, zone %s", x.ref.VolumeWorkspace, x.s.Zone.Name), Err: err}
}

// MissingPathError is a path a volume does not have.
type MissingPathError struct {
	Volume, Path, Where string
	Err                 error
}

func (e *MissingPathError) Error() string {
	return fmt.Sprintf("volume %s (%s) has no file or directory %s", e.Volume, e.Where, e.Path)
}

func (e *MissingPathError) Unwrap() error { return e.Err }

// VolumePath is a path of the helper's container as a path of the volume mounted at root:
// root itself is /.
func VolumePath(root, remote string) string {
	root, remote = path.Clean(root), path.Clean(remote)
	if remote == root {
		return "/"
	}
	if rel, ok := strings.CutPrefix(remote, strings.TrimSuffix(root, "/")+"/"); ok {
		return "/" + rel
	}
	return remote
}

// Report prints what a transfer did: -o json the Stats, else the paths a sync sent and
// deleted and a summary line.
func (x *volumeRun) Report(stats transfer.Stats, done string) error {
	if x.o.Output == "json" {
		return writeStructured(x.env.IO.Out, "json", stats)
	}
	return x.env.Render(func(out *bytes.Buffer) error {
		WriteTransferReport(out, stats, done, x.o.DryRun)
		return nil
	})
}

// WriteTransferReport writes the paths a sync sent and removed, one a line ("sent a.txt",
// "deleted old/"; "would send" on a dry run), then done with the counts.
func WriteTransferReport(out *bytes.Buffer, stats transfer.Stats, done string, dryRun bool) {
	sent, deleted := "sent", "deleted"
	if dryRun {
		sent, deleted = "would send", "would delete"
	}
	for _, p := range stats.Sent {
		fmt.Fprintf(out, "%s %s\n", sent, p)
	}
	for _, p := range stats.Removed {
		fmt.Fprintf(out, "%s %s\n", deleted, p)
	}
	counts := []string{plural(stats.Files, "file"), plural(stats.Dirs, "directory")}
	if stats.Symlinks > 0 {
		counts = append(counts, plural(stats.Symlinks, "symlink"))
	}
	counts = append(counts, ByteSize(stats.Bytes))
	for _, c := range []struct {
		n    int
		what string
	}{{stats.Unchanged, "unchanged"}, {stats.Ignored, "ignored"}, {stats.Deleted, deleted}, {stats.Skipped, "skipped"}} {
		if c.n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	fmt.Fprintf(out, "%s: %s in %s\n", done, strings.Join(counts, ", "), stats.Duration.Round(time.Millisecond))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(what, "y"))
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// ByteSize is a number of bytes for people: 512 B, 1.5 KiB, 20.0 MiB.
func ByteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// runVolume checks the caller's Dora verbs, starts the helper, waits for its container,
// runs the transfer in it and deletes the helper, whatever happens.
func runVolume(ctx context.Context, env *Env, o *volumeOptions, command, volume string, run func(context.Context, *volumeRun) error) error {
	if o.Output != "" && o.Output != "json" {
		return fmt.Errorf("-o %s: use json, or nothing for text", o.Output)
	}
	if !strings.HasPrefix(o.MountPath, "/") {
		return fmt.Errorf("--mount-path %q must be an absolute path", o.MountPath)
	}
	s, err := env.Current(ctx)
	if err != nil {
		return err
	}
	ws, ns, err := s.Workspace(ctx)
	if err != nil {
		return err
	}
	ref, err := ParseVolumeRef(volume, ws, ns)
	if err != nil {
		return err
	}
	if err := checkVolumeAccess(ctx, s, command, ref); err != nil {
		return err
	}
	volKind, _ := LookupKind("volume")
	err = s.Client.Get(ctx, client.ObjectKey{Namespace: ref.VolumeNamespace(), Name: ObjectName(ref.Volume)}, &doradev1.Volume{})
	switch {
	case apierrors.IsNotFound(err):
		return s.NotFound(ctx, volKind, ref.VolumeNamespace(), ref.VolumeWorkspace, ref.Volume)
	case err != nil && !apierrors.IsForbidden(err):
		return s.Explain(err, fmt.Sprintf("reading volume %s %s", ref.Volume, Scope(volKind, ref.VolumeWorkspace, s.Zone.Name)))
	}

	spec := transfer.HelperSpec{
		Volume: ObjectName(ref.Volume), Workspace: ref.Workspace, MountPath: o.MountPath, Image: o.Image,
		ReadOnly: command == doradev1.VerbLs || command == doradev1.VerbDownload,
	}
	if ref.Shared() {
		spec.VolumeWorkspace = ref.VolumeWorkspace
	}
	helper := transfer.NewHelper(spec)
	helper.Namespace = ref.Namespace
	x := &volumeRun{env: env, s: s, ref: ref, o: o, root: o.MountPath}
	if x.progress() {
		env.Errf("Starting helper workload %s (%s) in workspace %s to %s volume %s...\n", helper.Name, spec.Image, ref.Workspace, command, ref.Volume)
	}
	if err := s.Client.Create(ctx, helper, client.FieldOwner(FieldManager)); err != nil {
		return s.Explain(err, fmt.Sprintf("creating the helper workload %s (for volume %s) in workspace %s", helper.Name, ref.Volume, ref.Workspace))
	}
	defer deleteHelper(env, s, helper)
	x.pod, err = waitForHelper(ctx, s, helper, o.Timeout)
	if err != nil {
		return err
	}
	x.Exec = func(ctx context.Context, cmd []string, stdin io.Reader, stdout, stderr io.Writer) error {
		// The input's end goes in band: not every exec server closes the command's stdin.
		cmd, stdin = FramedCommand(cmd, stdin)
		return Exec(ctx, s, x.pod, cmd, stdin, stdout, stderr, false)
	}
	return run(ctx, x)
}

// helperDeleteTimeout bounds the deletion of a helper at the end, which has a context of
// its own: the command's may be cancelled already (Ctrl-C).
const helperDeleteTimeout = 20 * time.Second

// deleteHelper deletes a helper workload, saying so on stderr when it cannot.
func deleteHelper(env *Env, s *Session, helper client.Object) {
	ctx, cancel := context.WithTimeout(context.Background(), helperDeleteTimeout)
	defer cancel()
	err := s.Client.Delete(ctx, helper, client.PropagationPolicy(metav1.DeletePropagationBackground))
	if err != nil && !apierrors.IsNotFound(err) {
		env.Errf("warning: the helper workload %s could not be deleted (%v); its maxRunTime stops it, or run: kubectl dora delete wk %s -z %s -n %s\n",
			helper.GetName(), s.Explain(err, "deleting it"), helper.GetName(), s.Zone.Name, helper.GetNamespace())
	}
}

// helperPoll is how often the wait for the helper's container looks.
const helperPoll = 500 * time.Millisecond

// waitForHelper waits for the running container of the helper's replica 0, for at most
// timeout. A helper that does not start is an error saying why (the scheduler's message,
// a held workload, an image that cannot be pulled).
func waitForHelper(ctx context.Context, s *Session, helper *doradev1.Workload, timeout time.Duration) (*corev1.Pod, error) {
	deadline := time.Now().Add(timeout)
	selector := doradev1.LabelWorkload + "=" + naming.WorkloadLabelValue(helper.Name) + "," + doradev1.LabelReplica + "=0"
	for {
		list, err := s.Kube.CoreV1().Pods(helper.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("waiting for the helper workload %s: %w", helper.Name, ctx.Err())
			}
			return nil, s.Explain(err, "waiting for the container of the helper workload "+helper.Name)
		}
		var pods []corev1.Pod
		for i := range list.Items {
			p := &list.Items[i]
			if WorkloadOfPod(p) != helper.Name || p.DeletionTimestamp != nil {
				continue
			}
			pods = append(pods, *p)
			if helperRunning(p) {
				return p, nil
			}
			if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
				state, reason := containerState(p)
				return nil, fmt.Errorf("the container %s of the helper workload %s ended (%s: %s) before the transfer began", p.Name, helper.Name, state, reason)
			}
		}
		if time.Now().After(deadline) {
			return nil, helperNotStarted(ctx, s, helper, pods, timeout)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the helper workload %s: %w", helper.Name, ctx.Err())
		case <-time.After(helperPoll):
		}
	}
}

// helperRunning reports whether the helper's container runs.
func helperRunning(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running != nil {
			return true
		}
	}
	return false
}

// helperNotStarted says why the helper's container did not run in time: the first cause why
// finds, with what to do.
func helperNotStarted(ctx context.Context, s *Session, helper *doradev1.Workload, pods []corev1.Pod, timeout time.Duration) error {
	wl := &doradev1.Workload{}
	if err := s.Client.Get(ctx, client.ObjectKeyFromObject(helper), wl); err != nil {
		wl = helper
	}
	return HelperNotStartedError(wl, pods, s.Zone.Name, timeout, time.Now())
}

// HelperNotStartedError is the error of a helper whose container did not run within timeout,
// with why's first cause and what to do.
func HelperNotStartedError(wl *doradev1.Workload, pods []corev1.Pod, zone string, timeout time.Duration, now time.Time) error {
	report := why.Explain(why.Input{Workload: wl, Pods: pods, Zone: zone, Now: now})
	msg := fmt.Sprintf("the helper workload %s (image %s) did not start within %s", wl.Name, wl.Spec.Image.Image, duration.HumanDuration(timeout))
	if len(report.Causes) > 0 {
		c := report.Causes[0]
		msg += ": " + c.Message
		if c.Action != "" {
			msg += "; what to do: " + c.Action
		}
	}
	return errors.New(msg + " (--timeout waits longer; the helper is deleted)")
}
