using AgentGovernance.IO;
using AgentGovernance.Stores;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Stores;

/// <summary>
/// Lock files that do not stay behind: the holder removes its file when it lets go, and no two holders
/// ever hold at once although a waiter may have opened the file its holder is removing (open and lock are
/// two steps on Unix). flock locks belong to open file descriptions, so threads of one process contend as
/// processes do.
/// </summary>
public sealed class LockFileTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void ALockFileIsGoneOnceItsHolderLetsGo()
    {
        var path = Path.Combine(_temp.Path, ".lock");
        using (LockFile.Take(path))
        {
            Assert.True(File.Exists(path));
            Assert.Throws<IOException>(() => LockFile.Take(path).Dispose());
        }

        Assert.Equal(OperatingSystem.IsLinux() || OperatingSystem.IsWindows(), !File.Exists(path));
    }

    [Fact]
    public void ManyTakersRemovingTheFileNeverHoldAtOnce()
    {
        var path = Path.Combine(_temp.Path, ".lock");
        var inside = 0;
        var overlaps = 0;
        var taken = 0;
        var threads = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
        {
            for (var i = 0; i < 300; i++)
            {
                IDisposable held;
                while (true)
                {
                    try
                    {
                        held = LockFile.Take(path);
                        break;
                    }
                    catch (IOException)
                    {
                        Thread.Yield();
                    }
                }

                if (Interlocked.Increment(ref inside) > 1)
                {
                    Interlocked.Increment(ref overlaps);
                }

                Interlocked.Increment(ref taken);
                Thread.SpinWait(200);
                Interlocked.Decrement(ref inside);
                held.Dispose();
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.Equal(8 * 300, taken);
        Assert.Equal(0, overlaps);
        Assert.Equal(OperatingSystem.IsLinux() || OperatingSystem.IsWindows(), !File.Exists(path));
    }

    [Fact]
    public void TheStoreAndTheSnapshotLeaveNoLockFileBehind()
    {
        var store = FolderStore.Open(_temp["store"]);
        using (store.Lock(TimeSpan.FromSeconds(5)))
        {
            Assert.True(File.Exists(Path.Combine(store.Location, ".lock")));
        }

        Assert.False(File.Exists(Path.Combine(store.Location, ".lock")));
    }
}
