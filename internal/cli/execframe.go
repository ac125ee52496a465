package cli

import (
	"errors"
	"io"
	"strconv"
)

// The end of a command's standard input, in band.
//
// A remote command that reads its input to the end (tar -x, xargs) learns the end when the
// exec stream's stdin is closed. Not every pods/exec server passes that on: kwok's local
// exec (v0.8) never closes the command's stdin, and the WebSocket protocol before v5
// (API servers before 1.29) has no way to close it. Such a command then waits forever. So
// the volume commands send their input framed: chunks, each after a line with its length,
// and a line "0" at the end; a small sh loop on the remote side turns the frames back into
// a stream and closes it at the "0", whether or not the stream's stdin closes. The loop
// reads each chunk with dd iflag=fullblock (busybox's and GNU dd have it), which reads
// exactly the chunk's bytes; head -c would do with GNU head, but busybox's reads ahead.

// frameSize is the most a frame holds: one dd per frame on the remote side.
const frameSize = 1 << 20

// unframeScript reads frames on stdin and writes their bytes to the command in its
// arguments, whose input ends at the frame "0" (or where stdin does). The command's exit
// status is the script's. A command that stops reading stops the loop at the next frame.
const unframeScript = `dd if=/dev/null of=/dev/null bs=1 count=0 iflag=fullblock 2>/dev/null || {
	echo "dora-transfer: the image's dd cannot read full blocks (dd iflag=fullblock): use an image with busybox or GNU coreutils (--image)" >&2
	exit 126
}
while IFS= read -r n; do
	case $n in
	''|*[!0-9]*) echo "dora-transfer: a frame of the input stream is garbled" >&2; exit 2 ;;
	0) exit 0 ;;
	esac
	dd bs="$n" count=1 iflag=fullblock 2>/dev/null || exit 1
done | "$@"
`

// FramedCommand is cmd run behind the unframing loop, and stdin framed for it: what the
// command reads ends where stdin ends, also through an exec server that never closes the
// command's stdin. A nil stdin leaves the command as it is.
func FramedCommand(cmd []string, stdin io.Reader) ([]string, io.Reader) {
	if stdin == nil {
		return cmd, nil
	}
	return append([]string{"sh", "-c", unframeScript, "sh"}, cmd...), &framedReader{src: stdin, buf: make([]byte, frameSize)}
}

// framedReader frames what src holds: "<length>\n<bytes>" per chunk read, then "0\n" once
// src ends. An error of src other than its end ends the stream without the final frame, so
// the remote side sees the input cut short.
type framedReader struct {
	src io.Reader
	buf []byte
	// frame is the frame being sent; pending what of it is still to be read.
	frame, pending []byte
	err            error
}

func (r *framedReader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		n, err := io.ReadFull(r.src, r.buf)
		r.frame = r.frame[:0]
		if n > 0 {
			r.frame = append(strconv.AppendInt(r.frame, int64(n), 10), '\n')
			r.frame = append(r.frame, r.buf[:n]...)
		}
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			r.frame = append(r.frame, '0', '\n')
			r.err = io.EOF
		case err != nil:
			r.err = err
		}
		r.pending = r.frame
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}
