# ffprobe and ffmpeg: the server probes videos and audio for document
# attributes and takes video frames for thumbnails (rules M5, M7). Tests that
# need them read FILEDC_TEST_FFPROBE and FILEDC_TEST_FFMPEG and make their own
# sample media with ffmpeg.
apt_install ffmpeg
FILEDC_TEST_FFPROBE=$(command -v ffprobe)
FILEDC_TEST_FFMPEG=$(command -v ffmpeg)
export FILEDC_TEST_FFPROBE FILEDC_TEST_FFMPEG
