package sharedarray_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"

	"github.com/sharedarray/sharedarray"
)

// An image.Gray over a shared uint8 frame of shape (height, width), and an
// image.RGBA over one of shape (height, width, 4), with no copy: Pix is
// the mapping, so drawing into the image writes the array every process
// attached to it sees (NumPy: frame[y, x], frame[y, x, c]). The array is
// C-ordered, so Stride is the row length in bytes: a.Strides()[0].
//
// Lifetime: the images are valid while the Array is open; after Close,
// touching Pix faults (see Array). Keep the Array open, not just the
// image, for as long as the image is used.
func Example_image() {
	const h, w = 2, 3
	name := exampleName("gray")
	a, err := sharedarray.Create(name, []int{h, w}, sharedarray.Uint8)
	if err != nil {
		panic(err)
	}
	defer sharedarray.Delete(name)
	defer a.Close()
	pix, _ := sharedarray.View[uint8](a)
	gray := &image.Gray{Pix: pix, Stride: a.Strides()[0], Rect: image.Rect(0, 0, w, h)}
	gray.SetGray(2, 1, color.Gray{Y: 200})
	fmt.Println(pix) // the shared bytes: row 1, column 2

	rgbaName := exampleName("rgba")
	b, err := sharedarray.Create(rgbaName, []int{h, w, 4}, sharedarray.Uint8)
	if err != nil {
		panic(err)
	}
	defer sharedarray.Delete(rgbaName)
	defer b.Close()
	rgbaPix, _ := sharedarray.View[uint8](b)
	rgba := &image.RGBA{Pix: rgbaPix, Stride: b.Strides()[0], Rect: image.Rect(0, 0, w, h)}
	draw.Draw(rgba, rgba.Bounds(), gray, image.Point{}, draw.Src) // gray to RGBA, shared to shared
	fmt.Println(rgbaPix[len(rgbaPix)-4:])
	// Output:
	// [0 0 0 0 0 200]
	// [200 200 200 255]
}

// Frames of a ring as images. The writer draws straight into the slot
// Next returns (as FrameAs gives it typed) and publishes it; the image over the slot is valid
// only until Publish (the writer reuses the slot for a later frame, and a
// reader may be reading it). A reader's Next copies the frame into its
// own buffer, which it may wrap in an image and keep; a Read callback's
// frame is the ring itself and must not be kept after the callback.
func Example_imageRing() {
	const h, w = 2, 2
	name := exampleName("ring-gray")
	var wr *sharedarray.RingWriter
	wr, err := sharedarray.CreateRing(name, 4, []int{h, w}, sharedarray.Uint8)
	if err != nil {
		panic(err)
	}
	defer sharedarray.Delete(name)
	defer wr.Close()
	var rd *sharedarray.RingReader
	rd, err = sharedarray.OpenRingReader(name)
	if err != nil {
		panic(err)
	}
	defer rd.Close()

	b, err := wr.Next()
	if err != nil {
		panic(err)
	}
	slot, err := sharedarray.FrameAs[uint8](wr.Geometry().Dtype, b) // uint8 frames: slot is b itself
	if err != nil {
		panic(err)
	}
	img := &image.Gray{Pix: slot, Stride: w, Rect: image.Rect(0, 0, w, h)}
	draw.Draw(img, img.Bounds(), image.NewUniform(color.Gray{Y: 9}), image.Point{}, draw.Src)
	img.SetGray(0, 0, color.Gray{Y: 1})
	if err := wr.Publish(); err != nil { // img must not be touched from here on
		panic(err)
	}

	buf := make([]byte, rd.Geometry().FrameBytes)
	info, err := rd.Next(context.Background(), buf)
	if err != nil {
		panic(err)
	}
	frame := &image.Gray{Pix: buf, Stride: w, Rect: image.Rect(0, 0, w, h)} // this process's copy
	fmt.Println(info.Seq, frame.GrayAt(0, 0).Y, frame.GrayAt(1, 1).Y)
	// Output: 0 1 9
}
