import io.xchan.*;
import java.time.Duration;

public class Example {
    public static void main(String[] args) throws Exception {
        Chan<String> words = Chan.fixed(10);
        Chan<Long> count = Xchan.go(() -> { long n = 0; while (words.take() != null) n++; return n; });
        for (String w : "to be or not to be".split(" ")) words.put(w);
        words.close();
        System.out.println("words: " + count.take(Duration.ofSeconds(5)));
    }
}
