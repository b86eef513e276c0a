import java.net.http.HttpClient;
import java.security.MessageDigest;
import java.util.*;
public class Init {
    public static void main(String[] a) throws Exception {
        HttpClient c = HttpClient.newHttpClient();
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
        List<String> l = new ArrayList<>();
        Random r = new Random();
        for (int i = 0; i < 200_000; i++) l.add(Long.toHexString(r.nextLong()));
        Collections.sort(l);
        var json = new StringBuilder(); for (String s : l.subList(0, 1000)) json.append(s);
        md.digest(json.toString().getBytes());
        System.out.println("ready " + Math.random());
        long last = System.currentTimeMillis();
        while (true) {
            Thread.sleep(5);
            long now = System.currentTimeMillis();
            if (now - last > 300) System.out.println("alive after gap " + (now - last) + " random " + Math.random());
            last = now;
        }
    }
}
