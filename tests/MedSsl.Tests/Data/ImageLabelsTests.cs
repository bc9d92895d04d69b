using MedSsl.Data;

namespace MedSsl.Tests.Data;

public class ImageLabelsTests
{
    [Fact]
    public void Single_class_is_the_one_label_an_item_carries_and_null_with_none_or_several()
    {
        // Items: "b" only, none, "a" and "c", "c" only.
        var data = new ImageDataset(1, 1, 1, ["a", "b", "c"], new float[4],
            [false, true, false, false, false, false, true, false, true, false, false, true], ["p", "q", "r", "s"], ["p", "q", "r", "s"]);
        Assert.Equal([1, null, null, 2], Enumerable.Range(0, 4).Select(i => data.SingleClass(i)));
    }
}
