"""What the kazoo benchmark drivers share: the line protocol's ends on stdin/stdout."""
import os
import sys


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def die(what):
    """Reports `what` as the protocol's error line (and on stderr), and ends the process."""
    say("error " + what)
    sys.stderr.write("%s: %s\n" % (os.path.basename(sys.argv[0]), what))
    sys.stderr.flush()
    os._exit(1)


def expect(verb):
    """The next command's words, the first of which must be `verb` (end of input: "quit")."""
    words = (sys.stdin.readline() or "quit").split()
    if words[0] != verb:
        die("expected '%s', got '%s'" % (verb, words[0]))
    return words
