package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/streaming/pkg/httpstream"
)

func init() {
	Register("shell", newShellCommand)
	Register("exec", newExecCommand)
}

// execOptions are shell's and exec's flags.
type execOptions struct {
	Replica int
	Stdin   bool
	TTY     bool
}

func newShellCommand(env *Env) *cobra.Command {
	o := &execOptions{}
	cmd := &cobra.Command{
		Use:     "shell WORKLOAD|CONTAINER [-- COMMAND...]",
		GroupID: GroupRun,
		Short:   "Open a shell in a workload's container (bash, else sh), or run a command line in it",
		Long: `Open a shell in a container of a workload (replica 0, or --replica N) or in a container
named (blue.red-1): bash, or sh where the image has no bash. With a command line, run it
with that shell (bash -c, else sh -c) and exit with its exit code. When stdin is a
terminal, the shell gets one.`,
		Example: `  kubectl dora shell blue.red
  kubectl dora shell blue.red --replica 1 -- nvidia-smi
  kubectl dora shell blue.red -- 'ls /home && df -h /home'`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeWorkloadsAndContainers(env),
		RunE: func(cmd *cobra.Command, args []string) error {
			target, line := args[0], args[1:]
			t, err := FindContainers(cmd.Context(), env, target, max(o.Replica, 0))
			if err != nil {
				return err
			}
			tty := isTerminal(env.IO.In) && isTerminal(env.IO.Out)
			return Shell(cmd.Context(), t, t.One(), strings.Join(line, " "), env.IO.In, env.IO.Out, env.IO.ErrOut, tty)
		},
	}
	cmd.Flags().IntVar(&o.Replica, "replica", 0, "The replica whose container to enter.")
	return cmd
}

func newExecCommand(env *Env) *cobra.Command {
	o := &execOptions{}
	cmd := &cobra.Command{
		Use:     "exec WORKLOAD|CONTAINER [-i] [-t] -- COMMAND [ARGS...]",
		GroupID: GroupRun,
		Short:   "Run a command in a workload's container",
		Long: `Run a command, as it is (no shell), in a container of a workload (replica 0, or
--replica N) or in a container named, and exit with its exit code. -i passes stdin, -t
gives it a terminal.`,
		Example: `  kubectl dora exec blue.red -- nvidia-smi -L
  kubectl dora exec -it blue.red-1 -- python`,
		Args:              cobra.MinimumNArgs(2),
		ValidArgsFunction: completeWorkloadsAndContainers(env),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := FindContainers(cmd.Context(), env, args[0], max(o.Replica, 0))
			if err != nil {
				return err
			}
			var stdin io.Reader
			if o.Stdin {
				stdin = env.IO.In
			}
			tty := o.TTY && o.Stdin && isTerminal(env.IO.In)
			if o.TTY && !tty {
				env.Errln("warning: -t needs -i and a terminal on stdin; running without a terminal")
			}
			return Exec(cmd.Context(), t.S, t.One(), args[1:], stdin, env.IO.Out, env.IO.ErrOut, tty)
		},
	}
	cmd.Flags().IntVar(&o.Replica, "replica", 0, "The replica whose container runs the command.")
	cmd.Flags().BoolVarP(&o.Stdin, "stdin", "i", false, "Pass stdin to the command.")
	cmd.Flags().BoolVarP(&o.TTY, "tty", "t", false, "Give the command a terminal (with -i).")
	return cmd
}

// ShellCommands are the commands shell tries, in order: bash, then sh. An interactive shell
// is the shell itself; a command line runs with -c.
func ShellCommands(line string) [][]string {
	if line == "" {
		return [][]string{{"bash"}, {"sh"}}
	}
	return [][]string{{"bash", "-c", line}, {"sh", "-c", line}}
}

// IsMissingCommand reports whether an exec failed because the command is not in the
// image: the runtime's "executable file not found" (or "no such file"), or the exit codes
// 126 and 127 a shell gives for a command it cannot run.
func IsMissingCommand(err error) bool {
	if err == nil {
		return false
	}
	var exit utilexec.ExitError
	if errors.As(err, &exit) && exit.Exited() && (exit.ExitStatus() == 126 || exit.ExitStatus() == 127) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory") ||
		strings.Contains(msg, "not found in $PATH")
}

// Shell runs bash in the pod, and sh when the image has no bash: when the first try failed
// as a missing command before it wrote anything.
func Shell(ctx context.Context, t *ContainerTarget, pod *corev1.Pod, line string, stdin io.Reader, stdout, stderr io.Writer, tty bool) error {
	var err error
	for i, command := range ShellCommands(line) {
		out, errOut := &countingWriter{w: stdout}, &countingWriter{w: stderr}
		err = Exec(ctx, t.S, pod, command, stdin, out, errOut, tty)
		last := i == len(ShellCommands(line))-1
		if last || !IsMissingCommand(err) || out.n.Load() > 0 || errOut.n.Load() > 0 {
			return err
		}
	}
	return err
}

// countingWriter counts what goes through it.
type countingWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// Exec runs command in the pod's workload container (pods/exec), over WebSocket, or SPDY
// where the server does not speak it. With tty the local terminal is put in raw mode and
// its size follows the window. A command's non-zero exit is an ExitError.
func Exec(ctx context.Context, s *Session, pod *corev1.Pod, command []string, stdin io.Reader, stdout, stderr io.Writer, tty bool) error {
	container := ContainerName
	if len(pod.Spec.Containers) == 1 {
		container = pod.Spec.Containers[0].Name
	}
	req := s.Kube.CoreV1().RESTClient().Post().Resource("pods").Namespace(pod.Namespace).Name(pod.Name).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: container, Command: command,
			Stdin: stdin != nil, Stdout: true, Stderr: !tty, TTY: tty,
		}, scheme.ParameterCodec)
	spdy, err := remotecommand.NewSPDYExecutor(s.Rest, "POST", req.URL())
	if err != nil {
		return err
	}
	ws, err := remotecommand.NewWebSocketExecutor(s.Rest, "GET", req.URL().String())
	if err != nil {
		return err
	}
	executor, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return err
	}
	opts := remotecommand.StreamOptions{Stdin: stdin, Stdout: stdout, Tty: tty}
	if !tty {
		opts.Stderr = stderr
	}
	if tty {
		restore, sizes, err := rawTerminal(ctx, stdin, stdout)
		if err != nil {
			return err
		}
		defer restore()
		opts.TerminalSizeQueue = sizes
	}
	err = executor.StreamWithContext(ctx, opts)
	var exit utilexec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return s.Explain(err, fmt.Sprintf("running %s in container %s", strings.Join(command, " "), pod.Name))
	}
	return err
}

// isTerminal reports whether a stream is a terminal.
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// rawTerminal puts the terminal of stdin in raw mode and reports the size of stdout's as
// it changes; restore puts it back.
func rawTerminal(ctx context.Context, stdin io.Reader, stdout io.Writer) (restore func(), sizes remotecommand.TerminalSizeQueue, err error) {
	in, ok := stdin.(*os.File)
	if !ok {
		return func() {}, nil, nil
	}
	state, err := term.MakeRaw(int(in.Fd()))
	if err != nil {
		return nil, nil, fmt.Errorf("making the terminal raw: %w", err)
	}
	q := &sizeQueue{sizes: make(chan remotecommand.TerminalSize, 1)}
	out, _ := stdout.(*os.File)
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	ctx, cancel := context.WithCancel(ctx)
	send := func() {
		if out == nil {
			return
		}
		if w, h, err := term.GetSize(int(out.Fd())); err == nil {
			select {
			case q.sizes <- remotecommand.TerminalSize{Width: uint16(w), Height: uint16(h)}:
			default:
			}
		}
	}
	send()
	go func() {
		for {
			select {
			case <-ctx.Done():
				close(q.sizes) // Next returns nil: the executor stops asking
				return
			case <-winch:
				send()
			}
		}
	}()
	return func() {
		cancel()
		signal.Stop(winch)
		_ = term.Restore(int(in.Fd()), state)
	}, q, nil
}

// sizeQueue hands the terminal's sizes to the executor.
type sizeQueue struct {
	sizes chan remotecommand.TerminalSize
}

func (q *sizeQueue) Next() *remotecommand.TerminalSize {
	s, ok := <-q.sizes
	if !ok {
		return nil
	}
	return &s
}
