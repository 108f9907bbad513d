package filedctest_test

import (
	"bytes"
	"context"
	"fmt"
	"log"

	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/telegram/uploader"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"github.com/filedc/filedc/pkg/filedctest"
)

// uploadDocument makes data a document with messages.uploadMedia.
func uploadDocument(ctx context.Context, api *tg.Client, name string, data []byte) (*tg.Document, error) {
	file, err := uploader.NewUploader(api).FromBytes(ctx, name, data)
	if err != nil {
		return nil, err
	}
	media, err := api.MessagesUploadMedia(ctx, &tg.MessagesUploadMediaRequest{
		Peer:  &tg.InputPeerSelf{},
		Media: &tg.InputMediaUploadedDocument{File: file, MimeType: "text/plain"},
	})
	if err != nil {
		return nil, err
	}
	return media.(*tg.MessageMediaDocument).Document.(*tg.Document), nil
}

// A round trip: a bot uploads a file with gotd's uploader, makes it a
// document and downloads it again. In a test, New(t) and Bot(t) replace
// Start, Close and RunBot.
func Example_roundTrip() {
	srv, err := filedctest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	data := bytes.Repeat([]byte("filedc "), 150_000)
	err = srv.RunBot(context.Background(), func(ctx context.Context, client *telegram.Client) error {
		api := client.API()
		doc, err := uploadDocument(ctx, api, "hello.txt", data)
		if err != nil {
			return err
		}
		fmt.Println("document of", doc.Size, "bytes on DC", doc.DCID)
		var out bytes.Buffer
		if _, err := downloader.NewDownloader().Download(api, doc.AsInputDocumentFileLocation("")).Stream(ctx, &out); err != nil {
			return err
		}
		fmt.Println("downloaded the same bytes:", bytes.Equal(out.Bytes(), data))
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// document of 1050000 bytes on DC 2
	// downloaded the same bytes: true
}

// A fault: the first upload.saveFilePart answers FLOOD_WAIT_1. gotd's
// uploader waits the second it is told and saves the part again.
func Example_floodWait() {
	srv, err := filedctest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	flood := srv.Fail("upload.saveFilePart", tgerr.New(420, "FLOOD_WAIT_1")).Times(1)
	err = srv.RunBot(context.Background(), func(ctx context.Context, client *telegram.Client) error {
		api := client.API()
		// A raw call sees the error; tgerr.FloodWait would wait it out.
		_, err := api.UploadSaveFilePart(ctx, &tg.UploadSaveFilePartRequest{FileID: 1, Bytes: []byte("hi")})
		if d, ok := tgerr.AsFloodWait(err); ok {
			fmt.Println("told to wait", d)
		}
		flood.Times(1)
		file, err := uploader.NewUploader(api).FromBytes(ctx, "hello.txt", []byte("hello"))
		if err != nil {
			return err
		}
		fmt.Printf("uploaded %s after %d FLOOD_WAIT answers\n", file.(*tg.InputFile).Name, flood.Hits())
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("upload.saveFilePart calls:", srv.Calls("upload.saveFilePart"))
	// Output:
	// told to wait 1s
	// uploaded hello.txt after 2 FLOOD_WAIT answers
	// upload.saveFilePart calls: 3
}

// A migrate: two DCs of one cluster. A file stored on DC 2 is asked of DC
// 4, which answers 303 FILE_MIGRATE_2; gotd follows it by itself, carrying
// the login to DC 2 with auth.exportAuthorization.
func Example_fileMigrate() {
	dcs, err := filedctest.StartCluster([]int{2, 4})
	if err != nil {
		log.Fatal(err)
	}
	dc2, dc4 := dcs[0], dcs[1]
	defer dc2.Close()
	defer dc4.Close()

	data := bytes.Repeat([]byte("stored on DC 2 "), 70_000)
	var doc *tg.Document
	err = dc2.RunBot(context.Background(), func(ctx context.Context, client *telegram.Client) error {
		doc, err = uploadDocument(ctx, client.API(), "dc2.txt", data)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored on DC", doc.DCID)

	// The same bot, at home on DC 4.
	err = dc4.RunBot(context.Background(), func(ctx context.Context, client *telegram.Client) error {
		// A connection of its own sees the redirect; client.API() would
		// follow it.
		conn, err := client.Pool(1)
		if err != nil {
			return err
		}
		defer conn.Close()
		_, err = tg.NewClient(conn).UploadGetFile(ctx, &tg.UploadGetFileRequest{
			Location: doc.AsInputDocumentFileLocation(""), Limit: 4096})
		if rpcErr, ok := tgerr.As(err); ok {
			fmt.Println("DC 4 answers", rpcErr.Code, rpcErr.Message)
		}
		var out bytes.Buffer
		if _, err := downloader.NewDownloader().Download(client.API(), doc.AsInputDocumentFileLocation("")).Stream(ctx, &out); err != nil {
			return err
		}
		fmt.Println("downloaded through DC 4, the same bytes:", bytes.Equal(out.Bytes(), data))
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// stored on DC 2
	// DC 4 answers 303 FILE_MIGRATE_2
	// downloaded through DC 4, the same bytes: true
}
