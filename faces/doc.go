// Package faces finds faces in whole photos, aligns them to the FFHQ
// five-point template (the crop facexlib and every FFHQ-trained restorer
// expect), and pastes restored crops back with a feathered seam.
//
// Detection uses face-api's SSD MobileNet v1 (facenet.SSD, MIT) by default,
// or pigo's pixel-intensity-comparison cascades (MIT, embedded from
// github.com/esimov/pigo v1.4.6, see pigo/LICENSE); pigo's pupil localiser
// places the eyes for either. Points are (x, y) in pixels with integer
// coordinates at pixel centres, as in OpenCV.
package faces
