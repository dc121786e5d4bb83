using FunctionApp.Protocols.Tencent;

namespace FunctionApp.Tests.Protocols;

public class TencentSignatureTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1669872112);
    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(60);

    [Fact]
    public void Computes_the_documented_vector()
    {
        Assert.Equal("17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061", TencentSignature.Compute("xxxxyyyy", "1669872112"));
    }

    [Fact]
    public void Accepts_the_documented_vector_in_either_hex_case()
    {
        Assert.True(TencentSignature.Verify("xxxxyyyy", "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061", "1669872112", Now, Skew).IsValid);
        Assert.True(TencentSignature.Verify("xxxxyyyy", "17773BC39A671D7B9AA835458704D2A6DB81360A5940292B587D6D760D484061", "1669872112", Now, Skew).IsValid);
    }

    [Theory]
    [InlineData("17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484062", "1669872112", "does not match")]
    [InlineData("17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d48406", "1669872112", "does not match")]
    [InlineData(null, "1669872112", "required")]
    [InlineData("17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061", null, "required")]
    [InlineData("abc", "16698721xx", "Unix seconds")]
    [InlineData("abc", "-1669872112", "Unix seconds")]
    [InlineData("abc", "99999999999999999999", "Unix seconds")]
    public void Refuses_wrong_missing_or_malformed_signatures(string? sign, string? requestTime, string why)
    {
        var check = TencentSignature.Verify("xxxxyyyy", sign, requestTime, Now, Skew);
        Assert.False(check.IsValid);
        Assert.Contains(why, check.Failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-60, true)]
    [InlineData(60, true)]
    [InlineData(-61, false)]
    [InlineData(61, false)]
    [InlineData(-86400, false)]
    [InlineData(86400, false)]
    public void Judges_request_time_against_now_both_ways(int offsetSeconds, bool valid)
    {
        var requestTime = (Now.ToUnixTimeSeconds() + offsetSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var check = TencentSignature.Verify("token", TencentSignature.Compute("token", requestTime), requestTime, Now, Skew);
        Assert.Equal(valid, check.IsValid);
        if (!valid)
        {
            Assert.Contains("from now", check.Failure, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_signature_for_another_token_is_refused()
    {
        Assert.False(TencentSignature.Verify("other", TencentSignature.Compute("xxxxyyyy", "1669872112"), "1669872112", Now, Skew).IsValid);
    }
}
