package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
)

func init() { Register("logs", newLogsCommand) }

type logsOptions struct {
	Follow     bool
	Previous   bool
	Replica    int
	Tail       int64
	Since      time.Duration
	Timestamps bool
}

func newLogsCommand(env *Env) *cobra.Command {
	o := &logsOptions{}
	cmd := &cobra.Command{
		Use:     "logs WORKLOAD|CONTAINER [-f] [--replica N] [--previous]",
		GroupID: GroupRun,
		Short:   "Print the logs of a workload's containers",
		Long: `Print the logs of a workload's containers (every replica, each line prefixed with its
container when there are several; --replica N for one), or of one container by name
(blue.red-1). -f follows them; --previous prints those of the container's previous run.`,
		Example: `  kubectl dora logs blue.red
  kubectl dora logs blue.red --replica 1 -f
  kubectl dora logs blue.red-0 --previous`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeWorkloadsAndContainers(env),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLogs(cmd.Context(), env, o, args[0])
		},
	}
	cmd.Flags().BoolVarP(&o.Follow, "follow", "f", false, "Keep printing new lines.")
	cmd.Flags().BoolVarP(&o.Previous, "previous", "p", false, "The logs of the container's previous run (before it restarted).")
	cmd.Flags().IntVar(&o.Replica, "replica", -1, "Only this replica (0, 1, ...).")
	cmd.Flags().Int64Var(&o.Tail, "tail", -1, "Only the last lines, this many.")
	cmd.Flags().DurationVar(&o.Since, "since", 0, "Only lines newer than this, such as 10m.")
	cmd.Flags().BoolVar(&o.Timestamps, "timestamps", false, "Start each line with its time.")
	return cmd
}

func runLogs(ctx context.Context, env *Env, o *logsOptions, name string) error {
	t, err := FindContainers(ctx, env, name, o.Replica)
	if err != nil {
		return err
	}
	opts := &corev1.PodLogOptions{Container: ContainerName, Follow: o.Follow, Previous: o.Previous, Timestamps: o.Timestamps}
	if o.Tail >= 0 {
		opts.TailLines = &o.Tail
	}
	if o.Since > 0 {
		secs := int64(o.Since.Seconds())
		opts.SinceSeconds = &secs
	}
	prefix := len(t.Pods) > 1
	out := &lockedWriter{w: env.IO.Out}
	stream := func(pod *corev1.Pod) error {
		podOpts := *opts
		if len(pod.Spec.Containers) == 1 {
			podOpts.Container = pod.Spec.Containers[0].Name
		}
		rc, err := t.S.Kube.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &podOpts).Stream(ctx)
		if err != nil {
			return t.S.Explain(err, fmt.Sprintf("reading the logs of container %s %s", pod.Name, t.Where()))
		}
		defer func() { _ = rc.Close() }()
		p := ""
		if prefix {
			p = "[" + pod.Name + "] "
		}
		return copyLines(out, rc, p)
	}
	if !o.Follow {
		var errs []error
		for i := range t.Pods {
			if err := stream(&t.Pods[i]); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(t.Pods))
	for i := range t.Pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = stream(&t.Pods[i])
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return errors.Join(errs...)
}

// copyLines copies r to w a line at a time, each line starting with prefix.
func copyLines(w io.Writer, r io.Reader, prefix string) error {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			if _, werr := io.WriteString(w, prefix+line); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// lockedWriter lets goroutines write whole lines to one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
