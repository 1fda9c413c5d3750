package resp

import (
	"math"
	"math/rand/v2"
	"strings"

	"sessiond/keyspace"
)

// LOLWUT [VERSION <version>] [arguments]: computer art and the version,
// as Redis 7.0.15 draws it. VERSION 5 is Georg Nees's "Schotter" in
// Braille characters (LOLWUT VERSION 5 [columns] [squares per row]
// [squares per column]), VERSION 6 a skyline in the terminal's four grays
// (LOLWUT VERSION 6 [columns] [rows]); any other version, and LOLWUT
// without one, prints the version alone, as Redis 7's does. The art is
// random, as Redis's is (its rand()): the same shape, other squares and
// windows. The version is the one INFO reports.

func lolwutCommands() []*command {
	return []*command{
		{name: "lolwut", arity: -1, flags: flagReadonly | flagFast, group: "server", since: "5.0.0", summary: "Display some computer art and the Redis version", run: cmdLolwut},
	}
}

func cmdLolwut(x *call) {
	args := x.args[1:] // the version's own arguments
	version := uint32(0)
	if len(x.args) >= 3 && strings.EqualFold(cstr(x.args[1]), "version") {
		v, ok := x.intArg(2)
		if !ok {
			return
		}
		version = uint32(v) // Redis prints it with %u
		args = x.args[3:]
	}
	var art string
	switch version {
	case 5:
		n, ok := x.lolwutArgs(args, 66, 8, 12)
		if !ok {
			return
		}
		cols, perRow, perCol := n[0], n[1], n[2]
		art = renderBraille(drawSchotter(int(min(max(cols, 1), 1000)), int(min(max(perRow, 1), 200)), int(min(max(perCol, 1), 200)))) +
			"\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. "
	case 6:
		n, ok := x.lolwutArgs(args, 80, 20)
		if !ok {
			return
		}
		cols, rows := n[0], n[1]
		art = renderGrays(drawSkyline(int(min(max(cols, 1), 1000)), int(min(max(rows, 1), 1000)))) +
			"\nDedicated to the 8 bit game developers of past and present.\n" +
			"Original 8 bit image from Plaguemon by hikikomori. Redis ver. "
	default:
		art = "Redis ver. "
	}
	x.r.verbatim(art + Version + "\n")
}

// lolwutArgs reads as many integer arguments as there are defaults (the
// rest are ignored), each replacing its default.
func (x *call) lolwutArgs(args [][]byte, defaults ...int64) ([]int64, bool) {
	for i, arg := range args[:min(len(args), len(defaults))] {
		n, ok := keyspace.ParseInt(arg)
		if !ok {
			x.r.error(msgNotInteger)
			return nil, false
		}
		defaults[i] = n
	}
	return defaults, true
}

// canvas is Redis's lwCanvas: a width x height grid of colors (0-3).
type canvas struct {
	width, height int
	pixels        []byte
}

func newCanvas(width, height int, bg byte) *canvas {
	c := &canvas{width: width, height: height, pixels: make([]byte, width*height)}
	for i := range c.pixels {
		c.pixels[i] = bg
	}
	return c
}

// set colors a pixel; outside the canvas it does nothing.
func (c *canvas) set(x, y int, color byte) {
	if x < 0 || x >= c.width || y < 0 || y >= c.height {
		return
	}
	c.pixels[x+y*c.width] = color
}

// get is a pixel's color, 0 outside the canvas.
func (c *canvas) get(x, y int) byte {
	if x < 0 || x >= c.width || y < 0 || y >= c.height {
		return 0
	}
	return c.pixels[x+y*c.width]
}

// line draws from x1,y1 to x2,y2 with Bresenham's algorithm.
func (c *canvas) line(x1, y1, x2, y2 int, color byte) {
	dx, dy := abs(x2-x1), abs(y2-y1)
	sx, sy := -1, -1
	if x1 < x2 {
		sx = 1
	}
	if y1 < y2 {
		sy = 1
	}
	err := dx - dy
	for {
		c.set(x1, y1, color)
		if x1 == x2 && y1 == y2 {
			return
		}
		e2 := err * 2
		if e2 > -dy {
			err -= dy
			x1 += sx
		}
		if e2 < dx {
			err += dx
			y1 += sy
		}
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// square draws a square centred on x,y, of side size, rotated by angle,
// as Redis's lwDrawSquare computes it (in C floats where it uses them).
func (c *canvas) square(x, y int, size, angle float32, color byte) {
	size = float32(math.Round(float64(float32(float64(size) / 1.4142135623))))
	var px, py [4]int
	k := float32(math.Pi/4 + float64(angle))
	for j := range 4 {
		px[j] = int(math.Round(math.Sin(float64(k))*float64(size) + float64(x)))
		py[j] = int(math.Round(math.Cos(float64(k))*float64(size) + float64(y)))
		k = float32(float64(k) + math.Pi/2)
	}
	for j := range 4 {
		c.line(px[j], py[j], px[(j+1)%4], py[(j+1)%4], color)
	}
}

// crand is C's rand(): 0 to RAND_MAX.
func crand() int32 { return rand.Int32() }

const randMax = math.MaxInt32

// drawSchotter is Redis's lwDrawSchotter: rows of squares, turned and
// shifted more at random the lower they are.
func drawSchotter(cols, perRow, perCol int) *canvas {
	width := cols * 2
	padding := 0
	if width > 4 {
		padding = 2
	}
	side := float32(width-padding*2) / float32(perRow)
	height := int(side*float32(perCol) + float32(padding*2))
	c := newCanvas(width, height, 0)
	for y := range perCol {
		for x := range perRow {
			sx := int(float32(x)*side + side/2 + float32(padding))
			sy := int(float32(y)*side + side/2 + float32(padding))
			var angle float32
			if y > 1 {
				r1 := float32(crand()) / randMax / float32(perCol) * float32(y)
				r2 := float32(crand()) / randMax / float32(perCol) * float32(y)
				r3 := float32(crand()) / randMax / float32(perCol) * float32(y)
				if crand()%2 == 1 {
					r1 = -r1
				}
				if crand()%2 == 1 {
					r2 = -r2
				}
				if crand()%2 == 1 {
					r3 = -r3
				}
				angle = r1
				sx = int(float32(sx) + r2*side/3)
				sy = int(float32(sy) + r3*side/3)
			}
			c.square(sx, sy, side, angle, 1)
		}
	}
	return c
}

// renderBraille prints the canvas in Braille characters, each 2x4 pixels
// (Redis's lolwut5.c renderCanvas).
func renderBraille(c *canvas) string {
	var b strings.Builder
	for y := 0; y < c.height; y += 4 {
		for x := 0; x < c.width; x += 2 {
			bits := 0
			for i, p := range [8][2]int{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}, {0, 3}, {1, 3}} {
				if c.get(x+p[0], y+p[1]) != 0 {
					bits |= 1 << i
				}
			}
			b.WriteRune(rune(0x2800 + bits))
		}
		if y != c.height-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// skyscraper is one building of drawSkyline.
type skyscraper struct {
	xoff, width, height int
	windows             bool
	color               byte
}

// draw is Redis's generateSkyscraper: a building standing on the bottom
// row, its roof two pixels narrower each side, with windows (two pixels
// wide, one tall) in the other grays at random.
func (s *skyscraper) draw(c *canvas) {
	starty := c.height - 1
	endy := starty - s.height + 1
	for y := starty; y >= endy; y-- {
		for x := s.xoff; x < s.xoff+s.width; x++ {
			if y == endy && (x <= s.xoff+1 || x >= s.xoff+s.width-2) {
				continue
			}
			color := s.color
			if s.windows && x > s.xoff+1 && x < s.xoff+s.width-2 && y > endy+1 && y < starty-1 {
				relx, rely := x-(s.xoff+1), y-(endy+1)
				if relx/2%2 != 0 && rely%2 != 0 {
					for color == s.color {
						color = byte(1 + crand()%2)
					}
					if relx%2 != 0 {
						color = c.get(x-1, y)
					}
				}
			}
			c.set(x, y, color)
		}
	}
}

// drawSkyline is Redis's generateSkyline: two rows of buildings in the
// grays, then one in black with windows, over a white sky.
func drawSkyline(cols, rows int) *canvas {
	c := newCanvas(cols, rows, 3)
	for color := byte(2); color >= 1; color-- {
		s := skyscraper{color: color}
		for off := -10; off < c.width; {
			off += int(crand() % 8)
			s.xoff = off
			s.width = 10 + int(crand()%9)
			if color == 2 {
				s.height = c.height/2 + int(crand())%c.height/2
			} else {
				s.height = c.height/2 + int(crand())%c.height/3
			}
			s.draw(c)
			if color == 2 {
				off += s.width / 2
			} else {
				off += s.width + 1
			}
		}
	}
	s := skyscraper{color: 0, windows: true}
	for off := -10; off < c.width; {
		off += int(crand() % 8)
		s.xoff = off
		s.width = 5 + int(crand()%14)
		if s.width%4 != 0 {
			s.width += s.width % 3
		}
		s.height = c.height/3 + int(crand())%c.height/2
		s.draw(c)
		off += s.width + 5
	}
	return c
}

// renderGrays prints each pixel as a space in one of the terminal's four
// grays, foreground and background (Redis's lolwut6.c renderCanvas).
func renderGrays(c *canvas) string {
	codes := [4]string{"0;30;40m", "0;90;100m", "0;37;47m", "0;97;107m"}
	var b strings.Builder
	for y := range c.height {
		for x := range c.width {
			b.WriteString("\x1b[" + codes[c.get(x, y)&3] + " \x1b[0m")
		}
		if y != c.height-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}
