package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/sharedarray/sharedarray"
)

// lsEntry is one array in ls --json; docs/cli.md has the schema.
type lsEntry struct {
	Name             string     `json:"name"`
	NameBytes        []byte     `json:"name_bytes,omitempty"` // base64; only for names that are not UTF-8
	Dtype            string     `json:"dtype"`
	Shape            []int      `json:"shape"`
	NBytes           int64      `json:"nbytes"`
	FileBytes        int64      `json:"file_bytes"`
	Layout           string     `json:"layout"`
	Modified         string     `json:"modified"`
	AgeSeconds       int64      `json:"age_seconds"`
	Attached         int        `json:"attached"`
	AttachedComplete bool       `json:"attached_complete"`
	Holders          []lsHolder `json:"holders"`
	Ring             *lsRing    `json:"ring,omitempty"` // frame rings only
}

type lsHolder struct {
	PID          int    `json:"pid"`
	Command      string `json:"command"`
	CommandBytes []byte `json:"command_bytes,omitempty"`
	Mapped       bool   `json:"mapped"`
	Open         bool   `json:"open"`
}

// holdersOf finds the holders of every listed array in one pass over
// /proc: those of the file List read, whatever its name holds by then.
// complete is false when some processes could not be inspected
// (the counts are lower bounds) or /proc could not be read at all (ok is
// false then, and there are no counts).
func holdersOf(infos []sharedarray.Info) (m map[string][]sharedarray.Holder, complete, ok bool, err error) {
	if len(infos) == 0 {
		return nil, true, true, nil
	}
	m, err = scanHolders(infos)
	switch {
	case err == nil:
		return m, true, true, nil
	case errors.Is(err, sharedarray.ErrPermission) && m != nil:
		return m, false, true, err
	}
	return nil, false, false, err
}

// lsBeforeRing, when set (tests), runs before ls reads an entry's ring state.
var lsBeforeRing func(name string)

// scanHolders is sharedarray.HoldersOf keyed by name (ls and gc list
// rows by name: List's names are unique); tests replace it to make
// processes uninspected.
var scanHolders = func(infos []sharedarray.Info) (map[string][]sharedarray.Holder, error) {
	hs, err := sharedarray.HoldersOf(infos)
	if hs == nil {
		return nil, err
	}
	m := make(map[string][]sharedarray.Holder, len(infos))
	for i, in := range infos {
		m[in.Name] = hs[i]
	}
	return m, err
}

func (c *cli) ls(args []string) int {
	if !c.want(args, 0) {
		return exitUsage
	}
	infos, err := sharedarray.List()
	if err != nil {
		return c.fail("/dev/shm", err)
	}
	held, complete, scanned, herr := holdersOf(infos)
	now := time.Now()
	entries := make([]lsEntry, 0, len(infos))
	listed := make(map[string]sharedarray.Info, len(infos))
	var gone []string
	for _, in := range infos {
		listed[in.Name] = in
		e := lsEntry{Name: in.Name, Dtype: in.Dtype.String(), Shape: in.Shape, NBytes: dataBytes(in), FileBytes: in.Size,
			Layout: in.Layout.String(), Modified: in.ModTime.UTC().Format(time.RFC3339), AgeSeconds: int64(now.Sub(in.ModTime).Seconds()),
			AttachedComplete: complete, Holders: []lsHolder{}}
		if !utf8.ValidString(in.Name) {
			e.NameBytes = []byte(in.Name)
		}
		for _, h := range held[in.Name] {
			lh := lsHolder{PID: h.PID, Command: h.Command, Mapped: h.Mapped, Open: h.Open}
			if !utf8.ValidString(h.Command) {
				lh.CommandBytes = []byte(h.Command)
			}
			e.Holders = append(e.Holders, lh)
		}
		e.Attached = len(e.Holders)
		if lsBeforeRing != nil {
			lsBeforeRing(in.Name)
		}
		ring, rerr := ringOf(in.Name, in)
		if errors.Is(rerr, fs.ErrNotExist) {
			gone = append(gone, in.Name)
			continue
		}
		if rerr != nil {
			fmt.Fprintf(c.stderr, "sharedarray: ls: %s: ring state unreadable: %v\n", quote(in.Name), rerr)
		}
		e.Ring = ring
		entries = append(entries, e)
	}
	// The listing took time (the /proc scan, a StatRing per ring): an array
	// removed meanwhile is not listed as if it were there, and is named.
	// An array whose name now holds another file (replaced, renamed or
	// swapped meanwhile) is not listed with the first file's row either.
	kept := entries[:0]
	var changed []string
	for _, e := range entries {
		fi, err := os.Lstat("/dev/shm/" + e.Name)
		if errors.Is(err, fs.ErrNotExist) {
			gone = append(gone, e.Name)
			continue
		}
		if in := listed[e.Name]; err == nil && !sameFile(in, anyMtime{fi, in.ModTime}) {
			changed = append(changed, e.Name)
			continue
		}
		kept = append(kept, e)
	}
	entries = kept
	for _, l := range []struct {
		names []string
		what  string
	}{{gone, "removed"}, {changed, "replaced by another file"}} {
		if len(l.names) == 0 {
			continue
		}
		qs := make([]string, len(l.names))
		for i, n := range l.names {
			qs[i] = quote(n)
		}
		fmt.Fprintf(c.stderr, "sharedarray: ls: %d array(s) %s while ls ran, not listed: %s\n", len(l.names), l.what, strings.Join(qs, ", "))
	}
	if herr != nil {
		if scanned {
			var ue *sharedarray.UninspectedError
			errors.As(herr, &ue)
			c.warnf("sharedarray: ls: %s; ATTACHED counts marked + are lower bounds", uninspectedReason(ue))
		} else {
			c.report("/proc", herr)
		}
	}
	if arrays, bad := staleDeletes(now, c.staleAge); len(arrays)+len(bad) > 0 {
		c.warnf("sharedarray: ls: %d file(s) under Delete's private names (%s*), left by an interrupted Delete and not listed; sharedarray gc removes the unheld arrays among them",
			len(arrays)+len(bad), deletePrefix)
	}
	if c.json {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(entries); err != nil {
			return c.fail("", err)
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	header := "NAME\tDTYPE\tSHAPE\tNBYTES\tLAYOUT\tAGE\tATTACHED"
	if c.long {
		header += "\tHOLDERS"
	}
	rings := false
	for _, e := range entries {
		rings = rings || e.Ring != nil
	}
	if rings {
		header += "\tRING"
	}
	fmt.Fprintln(tw, header)
	for _, e := range entries {
		attached := "?"
		if scanned {
			attached = attachedString(e.Attached, !complete)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s", quote(e.Name), e.Dtype, strings.ReplaceAll(shapeString(e.Shape), " ", ""), e.NBytes, e.Layout, age(e.AgeSeconds), attached)
		if c.long {
			var hs []string
			for _, h := range held[e.Name] {
				hs = append(hs, holderString(h))
			}
			if len(hs) == 0 {
				hs = []string{"-"}
			}
			fmt.Fprintf(tw, "\t%s", strings.Join(hs, ","))
		}
		switch {
		case e.Ring != nil:
			fmt.Fprintf(tw, "\t%s", e.Ring.short())
		case rings:
			fmt.Fprint(tw, "\t-")
		}
		fmt.Fprintln(tw)
	}
	return c.flush(tw)
}

// attachedString is the ATTACHED column: "2", or "2+" when some processes
// could not be inspected.
func attachedString(n int, partial bool) string {
	s := strconv.Itoa(n)
	if partial {
		s += "+"
	}
	return s
}

// holderString is "PID/COMMAND", with " (fd)" for a process that has the
// array open without mapping it.
func holderString(h sharedarray.Holder) string {
	s := strconv.Itoa(h.PID) + "/" + quote(h.Command)
	if !h.Mapped {
		s += "(fd)"
	}
	return s
}
