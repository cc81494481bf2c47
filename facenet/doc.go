// Package facenet runs three face networks of face-api.js in facereward's
// own engine, on the CPU: the 68-point landmark net (FaceLandmark68Net,
// 112×112 input), the face recognition net (FaceRecognitionNet, a
// dlib-style ResNet giving a 128-d descriptor from a 150×150 input) and the
// face detector (SsdMobilenetv1: MobileNet v1 and SSD box predictors on a
// 512×512 input, with face-api's box decoding and non-max suppression).
//
// The weights are those of @vladmandic/face-api@1.7.15 (MIT), converted by
// tools/faceapi/convert and embedded, so the nets work offline. Outputs
// match the reference runtime (face-api.js@0.22.2 on tfjs-core's JS CPU
// backend) within the tolerances of the tests in this package.
//
// Images are [H,W,3] (or [N,H,W,3]) RGB tensors in [0,1]. The nets are
// read-only after loading and safe for concurrent use; each call runs on a
// pooled graph with NoGrad set.
package facenet
