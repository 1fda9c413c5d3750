package acl

import "strings"

// describeCommands is the command part of ACL LIST, computed from the
// bitmap as Redis 7.0 does (acl.c ACLDescribeSelectorCommandRules): start
// from +@all (if future commands are allowed) or -@all, apply the
// categories that best fit the bitmap, one at a time, then the single
// commands still different. Redis emits the single commands in its hash
// table's order, which differs from run to run; sessiond emits them in name
// order.
func (r *rules) describeCommands() string {
	var b strings.Builder
	additive := !r.bit(futureBit)
	fake := &rules{}
	if additive {
		b.WriteString("-@all ")
	} else {
		b.WriteString("+@all ")
		fake.applyAll(true)
	}
	temp := &rules{bits: r.bits}
	cmds := Commands()
	applied := make([]bool, len(categoryNames))
	for {
		best := -1
		minDiff, maxSame := int(^uint(0)>>1), 0
		for j := range categoryNames {
			if applied[j] {
				continue
			}
			on, off := 0, 0
			for _, c := range cmds {
				if c.Cats&(1<<j) != 0 {
					if temp.bit(c.ID) {
						on++
					} else {
						off++
					}
				}
			}
			diff, same := off, on
			if !additive {
				diff, same = on, off
			}
			if same > diff && (diff < minDiff || (diff == minDiff && same > maxSame)) {
				best, minDiff, maxSame = j, diff, same
			}
		}
		if best < 0 {
			break
		}
		cat := Category(1) << best
		fake.setCategory(cat, additive)
		temp.setCategory(cat, !additive)
		if additive {
			b.WriteString("+@")
		} else {
			b.WriteString("-@")
		}
		b.WriteString(categoryNames[best] + " ")
		applied[best] = true
	}
	for _, c := range cmds {
		user, have := r.bit(c.ID), fake.bit(c.ID)
		if user != have {
			if user {
				b.WriteByte('+')
			} else {
				b.WriteByte('-')
			}
			b.WriteString(c.Name + " ")
			fake.changePerm(c, user)
		}
		if !user {
			for _, a := range r.firstArgs[c.ID] {
				b.WriteString("+" + c.Name + "|" + a + " ")
			}
		}
	}
	return strings.TrimSuffix(b.String(), " ")
}

// Describe is the user's rules as ACL LIST shows them, after "user NAME ":
// flags, password digests, key patterns, channels, commands.
func (u *User) Describe() string {
	r := u.r.Load()
	var b strings.Builder
	if r.enabled {
		b.WriteString("on ")
	} else {
		b.WriteString("off ")
	}
	if r.nopass {
		b.WriteString("nopass ")
	}
	switch r.sanitize {
	case -1:
		b.WriteString("skip-sanitize-payload ")
	case 1:
		b.WriteString("sanitize-payload ")
	}
	for _, p := range r.passwords {
		b.WriteString("#" + p + " ")
	}
	b.WriteString(r.describeKeys(" "))
	if r.allKeys || len(r.patterns) > 0 {
		b.WriteByte(' ')
	}
	if r.allChannels {
		b.WriteString("&* ")
	} else {
		b.WriteString("resetchannels ")
		for _, c := range r.channels {
			b.WriteString("&" + c + " ")
		}
	}
	b.WriteString(r.describeCommands())
	return b.String()
}

func (r *rules) describeKeys(sep string) string {
	if r.allKeys {
		return "~*"
	}
	parts := make([]string, len(r.patterns))
	for i, p := range r.patterns {
		parts[i] = p.String()
	}
	return strings.Join(parts, sep)
}

func (r *rules) describeChannels() string {
	if r.allChannels {
		return "&*"
	}
	parts := make([]string, len(r.channels))
	for i, c := range r.channels {
		parts[i] = "&" + c
	}
	return strings.Join(parts, " ")
}

// Flags returns the user's flags as ACL GETUSER lists them.
func (u *User) Flags() []string {
	r := u.r.Load()
	var f []string
	if r.enabled {
		f = append(f, "on")
	} else {
		f = append(f, "off")
	}
	if r.nopass {
		f = append(f, "nopass")
	}
	switch r.sanitize {
	case -1:
		f = append(f, "skip-sanitize-payload")
	case 1:
		f = append(f, "sanitize-payload")
	}
	return f
}

// Passwords returns the SHA-256 digests of the user's passwords.
func (u *User) Passwords() []string { return append([]string(nil), u.r.Load().passwords...) }

// CommandRules is ACL GETUSER's "commands" field.
func (u *User) CommandRules() string { return u.r.Load().describeCommands() }

// KeyRules is ACL GETUSER's "keys" field.
func (u *User) KeyRules() string { return u.r.Load().describeKeys(" ") }

// ChannelRules is ACL GETUSER's "channels" field.
func (u *User) ChannelRules() string { return u.r.Load().describeChannels() }
