package dev.ignis.frontend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.ignis.common.Json;
import dev.ignis.common.LambdaException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Typed access to a JSON request body; a value of the wrong type is the caller's error, never a 500. */
final class RequestBody {
    private final JsonNode root;

    private RequestBody(JsonNode root) {
        this.root = root;
    }

    static RequestBody parse(byte[] body) {
        if (body == null || body.length == 0) {
            return new RequestBody(MissingNode.getInstance());
        }
        try {
            JsonNode n = Json.mapper().readTree(body);
            if (n == null || !n.isObject()) {
                throw LambdaException.invalidRequestContent("Could not parse request body into json: expected a JSON object");
            }
            return new RequestBody(n);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw LambdaException.invalidRequestContent("Could not parse request body into json: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw LambdaException.invalidRequestContent("Could not parse request body into json");
        }
    }

    JsonNode node(String path) {
        JsonNode n = root;
        for (String p : path.split("\\.")) {
            n = n.path(p);
        }
        return n.isMissingNode() || n.isNull() ? null : n;
    }

    String text(String path) {
        JsonNode n = node(path);
        if (n == null) {
            return null;
        }
        if (!n.isTextual()) {
            throw wrongType(path, "a string");
        }
        return n.textValue();
    }

    Integer integer(String path) {
        JsonNode n = node(path);
        if (n == null) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw wrongType(path, "an integer");
        }
        return n.intValue();
    }

    boolean bool(String path) {
        JsonNode n = node(path);
        if (n == null) {
            return false;
        }
        if (!n.isBoolean()) {
            throw wrongType(path, "a boolean");
        }
        return n.booleanValue();
    }

    byte[] base64(String path) {
        String s = text(path);
        if (s == null) {
            return null;
        }
        try {
            return Base64.getMimeDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw LambdaException.invalidRequestContent(path + " is not valid base64");
        }
    }

    List<String> strings(String path) {
        JsonNode n = node(path);
        if (n == null) {
            return null;
        }
        if (!n.isArray()) {
            throw wrongType(path, "a list of strings");
        }
        List<String> out = new ArrayList<>();
        n.forEach(e -> {
            if (!e.isTextual()) {
                throw wrongType(path, "a list of strings");
            }
            out.add(e.textValue());
        });
        return out;
    }

    Map<String, String> stringMap(String path) {
        JsonNode n = node(path);
        if (n == null) {
            return null;
        }
        if (!n.isObject()) {
            throw wrongType(path, "a map of strings");
        }
        Map<String, String> out = new LinkedHashMap<>();
        n.properties().forEach(e -> {
            if (!e.getValue().isTextual()) {
                throw wrongType(path + "." + e.getKey(), "a string");
            }
            out.put(e.getKey(), e.getValue().textValue());
        });
        return out;
    }

    Map<String, Double> doubleMap(String path) {
        JsonNode n = node(path);
        if (n == null) {
            return null;
        }
        if (!n.isObject()) {
            throw wrongType(path, "a map of numbers");
        }
        Map<String, Double> out = new LinkedHashMap<>();
        n.properties().forEach(e -> {
            if (!e.getValue().isNumber()) {
                throw wrongType(path + "." + e.getKey(), "a number");
            }
            out.put(e.getKey(), e.getValue().doubleValue());
        });
        return out;
    }

    private static LambdaException wrongType(String path, String expected) {
        return LambdaException.invalidRequestContent("Could not parse request body into json: " + path + " must be " + expected);
    }
}
